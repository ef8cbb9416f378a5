/**
 * The PDF viewer of the paper panel: pages are placeholders of the right size; pdf.js renders a
 * page (canvas + selectable text layer) only when it scrolls near the view, and far pages are
 * released again, so long papers stay light.
 */
import type * as PdfJs from 'pdfjs-dist';
import { h } from '../shared/vscode';

type Pdf = PdfJs.PDFDocumentProxy;
type Page = PdfJs.PDFPageProxy;

const KEEP_RENDERED = 10;

interface Slot {
  n: number;
  el: HTMLElement;
  width: number; // PDF points at scale 1
  height: number;
  renderedAt: number | null; // zoom of the current rendering
  task: Promise<void> | null;
}

export function normalize(s: string): string {
  return s
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/[\u2010-\u2015]/g, '-')
    .trim();
}

export class PdfViewer {
  readonly element: HTMLElement;
  private slots: Slot[] = [];
  private pdf: Pdf | null = null;
  private zoom = 1;
  private readonly texts = new Map<number, Promise<{ items: string[]; joined: string }>>();
  private observer: IntersectionObserver;
  private visible = new Set<number>();
  private query = '';
  /** Page chosen by goToPage, shown as current even when the view cannot scroll its top into place. */
  private pinned: number | null = null;
  private programmatic = false;
  /** Called when the page at the top of the view changes. */
  onPage: (page: number) => void = () => {};
  /** Called with the URL of a web link clicked in the PDF (the host opens it, not the webview). */
  onExternalLink: (url: string) => void = () => {};

  /**
   * What pdf.js's annotation layer calls to make and follow links: web links are marked here and
   * opened by the host; links to a destination in the document scroll to it.
   */
  private readonly linkService = {
    externalLinkEnabled: true,
    isInPresentationMode: false,
    eventBus: { on() {}, off() {}, _on() {}, _off() {}, dispatch() {} },
    get pagesCount(): number {
      return 0;
    },
    addLinkAttributes: (link: HTMLAnchorElement, url: string) => {
      link.href = url;
      link.title = url;
      link.rel = 'noopener noreferrer nofollow';
      link.dataset.external = '';
    },
    getDestinationHash: (dest: unknown) => (typeof dest === 'string' ? `#${encodeURIComponent(dest)}` : '#'),
    getAnchorUrl: (anchor: string) => `#${anchor}`,
    goToDestination: (dest: unknown) => void this.goToDestination(dest),
    goToPage: (n: number) => this.goToPage(n),
    executeNamedAction: (action: string) => {
      const cur = this.currentPage();
      const to: Record<string, number> = {
        NextPage: cur + 1,
        PrevPage: cur - 1,
        FirstPage: 1,
        LastPage: this.slots.length,
      };
      if (to[action] !== undefined) this.goToPage(to[action]!);
    },
    executeSetOCGState: () => {},
  };

  constructor(private readonly pdfjs: typeof PdfJs) {
    this.element = h('div', { class: 'pages', tabindex: 0, role: 'document', 'aria-label': 'Paper pages' });
    this.observer = new IntersectionObserver((entries) => this.onIntersect(entries), {
      root: this.element,
      rootMargin: '100% 0px',
    });
    let last = 0;
    this.element.addEventListener('scroll', () => {
      // A scroll we caused keeps the page we went to; the user's own scrolling releases it.
      if (this.programmatic) this.programmatic = false;
      else this.pinned = null;
      const p = this.currentPage();
      if (p !== last) {
        last = p;
        this.onPage(p);
      }
    });
  }

  get pageCount(): number {
    return this.slots.length;
  }

  get currentZoom(): number {
    return this.zoom;
  }

  async open(data: Uint8Array, zoom?: number): Promise<Pdf> {
    this.close();
    const pdf = await this.pdfjs.getDocument({ data, isEvalSupported: false }).promise;
    this.pdf = pdf;
    const first = await pdf.getPage(1);
    const vp = first.getViewport({ scale: 1 });
    for (let n = 1; n <= pdf.numPages; n++) {
      const el = h('div', {
        class: 'page',
        'data-page-number': n,
        'aria-label': `Page ${n}`,
        role: 'region',
      });
      const slot: Slot = { n, el, width: vp.width, height: vp.height, renderedAt: null, task: null };
      this.slots.push(slot);
      this.element.append(el);
    }
    this.zoom = zoom ?? this.fitWidthZoom();
    this.layout();
    for (const s of this.slots) this.observer.observe(s.el);
    void this.measurePages(pdf);
    return pdf;
  }

  close(): void {
    this.observer.disconnect();
    this.visible.clear();
    this.slots = [];
    this.texts.clear();
    this.element.replaceChildren();
    void this.pdf?.destroy();
    this.pdf = null;
  }

  fitWidthZoom(): number {
    const w = this.slots[0]?.width ?? 612;
    const avail = Math.max(200, (this.element.clientWidth || 800) - 32);
    return Math.min(5, Math.max(0.25, avail / (w * (96 / 72))));
  }

  setZoom(zoom: number): void {
    const page = this.currentPage();
    this.zoom = Math.min(5, Math.max(0.25, zoom));
    this.layout();
    this.goToPage(page);
    for (const n of this.visible) void this.render(n);
  }

  goToPage(n: number, flash = false): void {
    const s = this.slots[Math.min(this.slots.length, Math.max(1, n)) - 1];
    if (!s) return;
    const top = Math.max(0, s.el.offsetTop - 8);
    this.pinned = s.n;
    const before = this.element.scrollTop;
    this.element.scrollTop = top;
    this.programmatic = this.element.scrollTop !== before;
    const notify = this.onPage;
    queueMicrotask(() => notify(s.n));
    if (flash) {
      s.el.classList.add('flash');
      setTimeout(() => s.el.classList.remove('flash'), 900);
    }
  }

  /**
   * Scrolls to a PDF destination (a named one, or an explicit [page ref, {name: 'XYZ' | 'FitH' | …},
   * …coordinates] array): its page, and the top coordinate when the destination gives one.
   */
  async goToDestination(dest: unknown): Promise<boolean> {
    const pdf = this.pdf;
    if (!pdf) return false;
    const explicit = typeof dest === 'string' ? await pdf.getDestination(dest).catch(() => null) : dest;
    if (!Array.isArray(explicit) || explicit.length === 0) return false;
    const ref = explicit[0] as unknown;
    let index: number;
    try {
      index =
        typeof ref === 'number' ? ref : await pdf.getPageIndex(ref as Parameters<typeof pdf.getPageIndex>[0]);
    } catch {
      return false;
    }
    const s = this.slots[index];
    if (!s || this.pdf !== pdf) return false;
    const kind = (explicit[1] as { name?: string } | undefined)?.name;
    const top = kind === 'XYZ' ? explicit[3] : kind === 'FitH' || kind === 'FitBH' ? explicit[2] : null;
    this.goToPage(s.n);
    if (typeof top === 'number' && top < s.height) {
      const y = (s.height - top) * this.zoom * (96 / 72);
      const before = this.element.scrollTop;
      this.element.scrollTop = Math.max(0, s.el.offsetTop + y - 8);
      if (this.element.scrollTop !== before) this.programmatic = true;
    }
    return true;
  }

  currentPage(): number {
    if (this.pinned !== null) return this.pinned;
    const y = this.element.scrollTop + this.element.clientHeight / 3;
    let page = 1;
    for (const s of this.slots) {
      if (s.el.offsetTop <= y) page = s.n;
      else break;
    }
    return page;
  }

  /** Text of a page as pdf.js extracts it (cached). */
  pageText(n: number): Promise<{ items: string[]; joined: string }> {
    let t = this.texts.get(n);
    if (!t) {
      const pdf = this.pdf;
      t = (async () => {
        if (!pdf) return { items: [], joined: '' };
        const content = await (await pdf.getPage(n)).getTextContent();
        const items = content.items.map((i) => ('str' in i ? i.str : ''));
        return { items, joined: normalize(items.join(' ')) };
      })();
      this.texts.set(n, t);
    }
    return t;
  }

  /** Pages whose text contains the query (case-insensitive), with match counts. */
  async search(query: string): Promise<{ page: number; count: number }[]> {
    this.query = normalize(query);
    const out: { page: number; count: number }[] = [];
    if (this.query) {
      for (const s of this.slots) {
        const { joined } = await this.pageText(s.n);
        const count = joined.split(this.query).length - 1;
        if (count) out.push({ page: s.n, count });
      }
    }
    for (const s of this.slots) this.markMatches(s);
    return out;
  }

  /** The page of a heading: a text item equal to the title (maybe numbered) on or after `from`. */
  async findHeading(title: string, from: number): Promise<number | null> {
    const t = normalize(title);
    if (!t) return null;
    let loose: number | null = null;
    for (let n = Math.max(1, from); n <= this.slots.length; n++) {
      const { items, joined } = await this.pageText(n);
      for (const it of items) {
        const s = normalize(it).replace(/^[\d.ivx]+\s*/, '');
        if (s === t) return n;
      }
      if (loose === null && joined.includes(t)) loose = n;
    }
    return loose;
  }

  private layout(): void {
    const css = 96 / 72;
    for (const s of this.slots) {
      s.el.style.width = `${Math.floor(s.width * this.zoom * css)}px`;
      s.el.style.height = `${Math.floor(s.height * this.zoom * css)}px`;
    }
  }

  private async measurePages(pdf: Pdf): Promise<void> {
    for (const s of this.slots) {
      if (this.pdf !== pdf) return;
      const vp = (await pdf.getPage(s.n)).getViewport({ scale: 1 });
      if (vp.width !== s.width || vp.height !== s.height) {
        s.width = vp.width;
        s.height = vp.height;
        this.layout();
      }
    }
  }

  private onIntersect(entries: IntersectionObserverEntry[]): void {
    for (const e of entries) {
      const n = Number((e.target as HTMLElement).dataset.pageNumber);
      if (e.isIntersecting) {
        this.visible.add(n);
        void this.render(n);
      } else this.visible.delete(n);
    }
    this.release();
  }

  /** Frees the canvases of pages far from the view. */
  private release(): void {
    const rendered = this.slots.filter((s) => s.renderedAt !== null && !this.visible.has(s.n));
    const cur = this.currentPage();
    rendered.sort((a, b) => Math.abs(b.n - cur) - Math.abs(a.n - cur));
    const excess = this.slots.filter((s) => s.renderedAt !== null).length - KEEP_RENDERED;
    for (const s of rendered.slice(0, Math.max(0, excess))) {
      s.renderedAt = null;
      s.el.classList.remove('rendered');
      s.el.replaceChildren();
    }
  }

  private render(n: number): Promise<void> {
    const s = this.slots[n - 1];
    const pdf = this.pdf;
    if (!s || !pdf || s.renderedAt === this.zoom) return Promise.resolve();
    if (s.task) return s.task.then(() => this.render(n));
    const zoom = this.zoom;
    s.task = (async () => {
      const page: Page = await pdf.getPage(n);
      const scale = zoom * (96 / 72);
      const vp = page.getViewport({ scale });
      const dpr = window.devicePixelRatio || 1;
      const canvas = h('canvas', { 'aria-hidden': 'true' });
      canvas.width = Math.floor(vp.width * dpr);
      canvas.height = Math.floor(vp.height * dpr);
      canvas.style.width = `${Math.floor(vp.width)}px`;
      canvas.style.height = `${Math.floor(vp.height)}px`;
      await page.render({ canvas, viewport: vp, transform: dpr !== 1 ? [dpr, 0, 0, dpr, 0, 0] : undefined })
        .promise;
      const text = h('div', { class: 'textLayer' });
      text.style.setProperty('--scale-factor', String(scale));
      text.style.setProperty('--total-scale-factor', String(scale));
      const layer = new this.pdfjs.TextLayer({
        textContentSource: page.streamTextContent(),
        container: text,
        viewport: vp,
      });
      await layer.render();
      const links = await this.annotations(page, vp);
      if (this.pdf !== pdf || this.zoom !== zoom) return;
      s.el.style.setProperty('--scale-factor', String(scale));
      s.el.style.setProperty('--total-scale-factor', String(scale));
      s.el.replaceChildren(canvas, text, ...(links ? [links] : []));
      s.el.classList.add('rendered');
      s.renderedAt = zoom;
      this.markMatches(s);
    })()
      .catch((err: unknown) => {
        s.el.replaceChildren(
          h('div', { class: 'page-error', text: `Page ${n} could not be rendered: ${String(err)}` }),
        );
      })
      .finally(() => {
        s.task = null;
      });
    return s.task;
  }

  /** pdf.js's annotation layer for a page's links (no forms, no scripts); null when it has none. */
  private async annotations(page: Page, vp: PdfJs.PageViewport): Promise<HTMLElement | null> {
    const annotations = await page.getAnnotations({ intent: 'display' });
    if (!annotations.some((a: { subtype?: string }) => a.subtype === 'Link')) return null;
    const div = h('div', { class: 'annotationLayer' });
    const viewport = vp.clone({ dontFlip: true });
    const layer = new this.pdfjs.AnnotationLayer({
      div,
      page,
      viewport,
      linkService: this.linkService,
      accessibilityManager: null,
      annotationCanvasMap: null,
      annotationEditorUIManager: null,
      structTreeLayer: null,
      commentManager: null,
      annotationStorage: null,
    });
    await layer.render({
      div,
      page,
      viewport,
      annotations: annotations.filter((a: { subtype?: string }) => a.subtype === 'Link'),
      linkService: this.linkService as never,
      renderForms: false,
      enableScripting: false,
      hasJSActions: false,
    });
    // Web links go to the host. Stopping the click here also keeps VS Code's own handler (on the
    // webview's window) from opening the link past our checks; pdf.js's handler on an internal link
    // has already scrolled.
    div.addEventListener('click', (ev) => {
      const a = (ev.target as Element).closest('a');
      if (!a) return;
      ev.stopPropagation();
      if (a.dataset.external !== undefined) {
        ev.preventDefault();
        this.onExternalLink(a.href);
      }
    });
    return div;
  }

  private markMatches(s: Slot): void {
    for (const span of s.el.querySelectorAll<HTMLElement>('.textLayer span')) {
      const hit = this.query !== '' && normalize(span.textContent ?? '').includes(this.query);
      span.classList.toggle('match', hit);
    }
  }

  /** Marks the heading spans of a section title on a rendered page. */
  markHeading(page: number, title: string): void {
    const t = normalize(title);
    for (const el of this.element.querySelectorAll('.heading-mark')) el.classList.remove('heading-mark');
    const s = this.slots[page - 1];
    if (!s) return;
    for (const span of s.el.querySelectorAll<HTMLElement>('.textLayer span')) {
      const txt = normalize(span.textContent ?? '').replace(/^[\d.ivx]+\s*/, '');
      if (txt && txt === t) span.classList.add('heading-mark');
    }
  }
}
