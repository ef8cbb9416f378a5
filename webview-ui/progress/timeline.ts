/**
 * Virtualised timeline: only the rows in view (plus overscan) exist in the DOM; rows are fetched
 * from the extension in pages as they scroll into view and evicted when far away. Enter/Space on a
 * row expands it (the command and its output, fetched on demand); arrow keys move between rows.
 */
import type { DetailSection, TimelineEntry } from '../../src/protocol/progress';
import { type Codicon, icon } from '../shared/codicons';
import { onLink, renderMarkdown } from '../shared/markdown-dom';
import { h } from '../shared/vscode';
import {
  indexAt,
  offsetOf,
  pagesCovering,
  type TimelineLayout,
  toggleSorted,
  totalHeight,
  visibleRange,
} from './windowing';

export const ROW_HEIGHT = 24;
export const DETAIL_HEIGHT = 260;
const PAGE = 200;
const OVERSCAN = 12;
const CACHE_MAX = 6000;

export interface TimelineIo {
  requestRange(start: number, end: number): void;
  requestDetail(index: number): void;
  /** A link clicked in a rendered message (the host opens it). */
  openLink(href: string): void;
}

const KIND_ICON: Record<TimelineEntry['kind'], Codicon> = {
  session: 'beaker',
  status: 'circle-filled',
  stage: 'play',
  model: 'sparkle',
  tool: 'terminal',
  user: 'account',
  plan: 'list-unordered',
  reminder: 'watch',
  split: 'fold',
  edit: 'diff',
  checkpoint: 'pinned',
  rewind: 'discard',
  error: 'error',
  grade: 'star-full',
  check: 'pass-filled',
  end: 'debug-stop',
};

function clock(ts: number): string {
  const d = new Date(ts);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

function duration(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 1000
    ? `${ms} ms`
    : ms < 60_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${Math.round(ms / 60_000)} min`;
}

export class Timeline {
  readonly element: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly latest: HTMLButtonElement;
  private readonly spacer: HTMLElement;
  private total = 0;
  private expanded: number[] = [];
  private readonly cache = new Map<number, TimelineEntry>();
  private readonly details = new Map<number, DetailSection[]>();
  private readonly requested = new Set<number>();
  private readonly rows = new Map<number, HTMLElement>();
  private follow = true;
  private focusIndex = -1;
  private frame = 0;

  constructor(private readonly io: TimelineIo) {
    this.spacer = h('div', { class: 'tl-spacer' });
    this.scroller = h(
      'div',
      { class: 'tl-scroller', role: 'list', 'aria-label': 'Timeline of steps', tabindex: 0 },
      this.spacer,
    );
    this.latest = h('button', {
      class: 'tl-latest',
      id: 'tl-latest',
      hidden: true,
      title: 'Jump to the latest step and follow',
    });
    this.latest.append(icon('arrow-down', 'small'), ' Latest');
    this.latest.addEventListener('click', () => this.jumpToEnd());
    this.element = h('div', { class: 'timeline' }, this.scroller, this.latest);
    this.scroller.addEventListener('scroll', () => {
      const { scrollTop, clientHeight, scrollHeight } = this.scroller;
      this.follow = scrollTop + clientHeight >= scrollHeight - ROW_HEIGHT;
      this.latest.hidden = this.follow;
      this.schedule();
    });
    this.scroller.addEventListener('keydown', (ev) => this.onKey(ev));
    new ResizeObserver(() => this.schedule()).observe(this.scroller);
  }

  get layout(): TimelineLayout {
    return { rowHeight: ROW_HEIGHT, detailHeight: DETAIL_HEIGHT, total: this.total, expanded: this.expanded };
  }

  /** Number of row elements in the DOM (for tests and the benchmark). */
  get renderedRows(): number {
    return this.rows.size;
  }

  setTotal(total: number): void {
    if (total === this.total) return;
    const grew = total > this.total;
    if (total < this.total) {
      this.cache.clear();
      this.details.clear();
      this.requested.clear();
      this.expanded = [];
    } else {
      // The last page was partial: ask for it again when it comes into view.
      this.requested.delete(Math.floor(this.total / PAGE));
    }
    this.total = total;
    if (grew && this.follow) this.jumpToEnd();
    else if (grew) this.latest.hidden = false;
    this.schedule();
  }

  addEntries(entries: TimelineEntry[]): void {
    for (const e of entries) {
      const before = this.cache.get(e.index);
      // An open running row: its live output (or its result) changed the detail, fetch it again.
      if (
        before &&
        this.expanded.includes(e.index) &&
        (e.live !== undefined || before.live !== undefined || before.state !== e.state)
      )
        this.io.requestDetail(e.index);
      this.cache.set(e.index, e);
      const row = this.rows.get(e.index);
      if (row) this.fillRow(row, e);
    }
    this.schedule();
  }

  setDetail(index: number, sections: DetailSection[]): void {
    this.details.set(index, sections);
    const row = this.rows.get(index);
    if (row) this.fillDetail(row, index);
  }

  toggle(index: number): void {
    this.expanded = toggleSorted(this.expanded, index);
    const open = this.expanded.includes(index);
    if (open && !this.details.has(index)) this.io.requestDetail(index);
    for (const row of this.rows.values()) row.remove();
    this.rows.clear();
    this.renderNow();
  }

  /** Scrolls to the last row and keeps following new rows. */
  jumpToEnd(): void {
    this.follow = true;
    this.latest.hidden = true;
    this.renderNow();
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.renderNow();
  }

  scrollToIndex(index: number): void {
    const l = this.layout;
    const top = offsetOf(l, index);
    const { scrollTop, clientHeight } = this.scroller;
    if (top < scrollTop) this.scroller.scrollTop = top;
    else if (top + ROW_HEIGHT > scrollTop + clientHeight)
      this.scroller.scrollTop = top + ROW_HEIGHT - clientHeight;
    this.renderNow();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.renderNow();
    });
  }

  /** Renders the rows in view synchronously (also used by the benchmark). */
  renderNow(): void {
    const l = this.layout;
    this.spacer.style.height = `${totalHeight(l)}px`;
    const { start, end } = visibleRange(
      l,
      this.scroller.scrollTop,
      this.scroller.clientHeight || 400,
      OVERSCAN,
    );
    for (const [i, row] of this.rows) {
      if (i < start || i >= end) {
        row.remove();
        this.rows.delete(i);
      }
    }
    const missing: number[] = [];
    for (let i = start; i < end; i++) {
      let row = this.rows.get(i);
      if (!row) {
        row = this.makeRow(i);
        this.rows.set(i, row);
        this.spacer.append(row);
      }
      const e = this.cache.get(i);
      if (!e) missing.push(i);
    }
    for (const p of pagesCovering(missing[0] ?? 0, (missing.at(-1) ?? -1) + 1, PAGE)) {
      if (this.requested.has(p)) continue;
      this.requested.add(p);
      this.io.requestRange(p * PAGE, Math.min(this.total, (p + 1) * PAGE));
    }
    this.evict(start, end);
  }

  private evict(start: number, end: number): void {
    if (this.cache.size <= CACHE_MAX) return;
    const keep = CACHE_MAX / 2;
    for (const i of this.cache.keys()) {
      if (i < start - keep || i > end + keep) {
        this.cache.delete(i);
        this.details.delete(i);
        this.requested.delete(Math.floor(i / PAGE));
      }
    }
  }

  private makeRow(i: number): HTMLElement {
    const open = this.expanded.includes(i);
    const row = h('div', {
      class: `tl-row${open ? ' open' : ''}`,
      role: 'listitem',
      tabindex: i === this.focusIndex ? 0 : -1,
      'aria-expanded': open ? 'true' : 'false',
      'data-index': i,
    });
    row.style.top = `${offsetOf(this.layout, i)}px`;
    row.addEventListener('click', (ev) => {
      if ((ev.target as HTMLElement).closest('.tl-detail')) return;
      this.focusIndex = i;
      this.toggle(i);
      this.rows.get(i)?.focus();
    });
    const e = this.cache.get(i);
    if (e) this.fillRow(row, e);
    else row.append(h('span', { class: 'tl-title muted', text: '…' }));
    if (open) this.fillDetail(row, i);
    return row;
  }

  private fillRow(row: HTMLElement, e: TimelineEntry): void {
    const detail = row.querySelector('.tl-detail');
    row.replaceChildren(
      h(
        'div',
        { class: 'tl-line' },
        h('span', { class: `tl-state ${e.state}`, title: e.state, 'aria-label': e.state }),
        h('span', { class: 'tl-time', text: clock(e.ts) }),
        h('span', { class: `tl-kind k-${e.kind}`, 'aria-hidden': 'true' }, icon(KIND_ICON[e.kind], 'small')),
        e.step !== undefined ? h('span', { class: 'tl-step', text: `#${e.step}` }) : null,
        h('span', { class: 'tl-title', text: e.title, title: e.title }),
        e.live ? h('span', { class: 'tl-live', text: e.live, title: e.live }) : null,
        h('span', { class: 'tl-dur', text: duration(e.durationMs) }),
      ),
    );
    row.classList.toggle('has-detail', e.hasDetail);
    row.classList.toggle('abandoned', !!e.abandoned);
    // VS Code's own context menu on a step row (webview/context menus): rewind, review.
    if (e.step !== undefined && e.step > 0) {
      row.dataset.vscodeContext = JSON.stringify({
        webviewSection: 'step',
        step: e.step,
        preventDefaultContextMenuItems: true,
      });
    } else delete row.dataset.vscodeContext;
    row.setAttribute(
      'aria-label',
      `${e.kind} ${e.title} (${e.state})${e.abandoned ? ', abandoned by a rewind' : ''}${e.live ? `, output: ${e.live}` : ''}`,
    );
    if (detail) row.append(detail);
  }

  private fillDetail(row: HTMLElement, i: number): void {
    row.querySelector('.tl-detail')?.remove();
    const sections = this.details.get(i);
    const box = h('div', { class: 'tl-detail', style: `height:${DETAIL_HEIGHT - 8}px` });
    if (!sections) box.append(h('div', { class: 'muted', text: 'Loading…' }));
    else if (sections.length === 0)
      box.append(h('div', { class: 'muted', text: 'Nothing more to show for this step.' }));
    for (const s of sections ?? []) {
      box.append(
        h('div', { class: 'tl-detail-label', text: s.label + (s.truncated ? ' (truncated)' : '') }),
        s.markdown ? renderMarkdown(s.text, 'md tl-md') : h('pre', { class: 'tl-pre', text: s.text }),
      );
    }
    onLink(box, (href) => this.io.openLink(href));
    row.append(box);
  }

  private onKey(ev: KeyboardEvent): void {
    const row = (ev.target as HTMLElement).closest<HTMLElement>('.tl-row');
    const current = row ? Number(row.dataset.index) : indexAt(this.layout, this.scroller.scrollTop);
    let next = current;
    if (ev.key === 'ArrowDown') next = Math.min(this.total - 1, current + 1);
    else if (ev.key === 'ArrowUp') next = Math.max(0, current - 1);
    else if (ev.key === 'Home') next = 0;
    else if (ev.key === 'End') next = this.total - 1;
    else if ((ev.key === 'Enter' || ev.key === ' ') && row) {
      ev.preventDefault();
      this.toggle(current);
      this.rows.get(current)?.focus();
      return;
    } else return;
    ev.preventDefault();
    this.focusIndex = next;
    this.scrollToIndex(next);
    for (const [i, r] of this.rows) r.tabIndex = i === next ? 0 : -1;
    this.rows.get(next)?.focus();
  }
}
