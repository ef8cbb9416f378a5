/** Paper panel (runs in the webview): toolbar, section outline, lazily rendered PDF pages, search. */
import type * as PdfJs from 'pdfjs-dist';
import {
  type FromPaper,
  type OutlineSection,
  type PaperViewState,
  toPaperSchema,
} from '../src/protocol/paper';
import { paperCss } from './paper/styles';
import { normalize, PdfViewer } from './paper/viewer';
import { type Codicon, icon, installCodicons } from './shared/codicons';
import { onLink, renderMarkdown } from './shared/markdown-dom';
import { markdownCss } from './shared/markdown-styles';
import { getState, h, logHome, onMessage, post, setState } from './shared/vscode';

const send = (msg: FromPaper) => post(msg);
const app = document.getElementById('app') as HTMLElement;
installCodicons(app);
const style = document.createElement('style');
style.textContent = paperCss + markdownCss;
document.head.append(style);

let viewer: PdfViewer | null = null;
/** A Markdown paper's rendered body (instead of the PDF viewer). */
let article: HTMLElement | null = null;
let doc: { uri: string; source?: string; title: string; sections: OutlineSection[] } | null = null;
/** Destinations of the PDF's own outline entries, by entry id. */
const outlineDests = new Map<string, unknown>();
const sectionPages = new Map<string, number>();
let reading: string | null = null;

// Toolbar
const btn = (glyph: Codicon, aria: string, onClick: () => void, extra: Record<string, string> = {}) => {
  const b = h('button', { class: 'icon', title: aria, 'aria-label': aria, ...extra }, icon(glyph));
  b.addEventListener('click', onClick);
  return b;
};
const pageInput = h('input', { id: 'page', type: 'number', min: 1, value: 1, 'aria-label': 'Page number' });
const pageCount = h('span', { class: 'muted', id: 'page-count', text: '/ –' });
const zoomLabel = h('span', { class: 'muted zoom', id: 'zoom', text: '–' });
const searchInput = h('input', {
  id: 'search',
  type: 'search',
  placeholder: 'Search paper',
  'aria-label': 'Search the paper',
});
const searchInfo = h('span', { class: 'muted', id: 'search-info', role: 'status' });
/** The PDF's own outline when the sidebar shows the section index from src/paper. */
const pdfOutline = h('select', { id: 'pdf-outline', 'aria-label': 'PDF outline', hidden: true });
pdfOutline.addEventListener('change', () => {
  const dest = outlineDests.get(pdfOutline.value);
  pdfOutline.selectedIndex = 0;
  if (dest !== undefined) void viewer?.goToDestination(dest);
});
const outlineToggle = btn('list-flat', 'Toggle outline', () => outline.classList.toggle('hidden'), {
  'aria-controls': 'outline',
});
const toolbar = h(
  'div',
  { class: 'toolbar', role: 'toolbar', 'aria-label': 'Paper' },
  outlineToggle,
  h(
    'span',
    { class: 'pdf-only' },
    btn('arrow-left', 'Previous page', () => viewer?.goToPage(viewer.currentPage() - 1)),
    pageInput,
    pageCount,
    btn('arrow-right', 'Next page', () => viewer?.goToPage(viewer.currentPage() + 1)),
    h('span', { class: 'sep' }),
    btn('remove', 'Zoom out', () => zoomBy(1 / 1.2), { id: 'zoom-out' }),
    zoomLabel,
    btn('add', 'Zoom in', () => zoomBy(1.2), { id: 'zoom-in' }),
    btn('screen-full', 'Fit width', () => viewer && setZoom(viewer.fitWidthZoom())),
    h('span', { class: 'sep' }),
  ),
  searchInput,
  btn('arrow-up', 'Previous match', () => stepMatch(-1)),
  btn('arrow-down', 'Next match', () => stepMatch(1)),
  searchInfo,
  pdfOutline,
);
const banner = h('div', { class: 'reading-banner', id: 'reading', role: 'status', hidden: true });
const outline = h('nav', { class: 'outline', id: 'outline', 'aria-label': 'Sections' });
const main = h('div', { class: 'main' });
const message = h('div', { class: 'message muted', text: 'Loading paper…' });
main.append(message);
app.append(toolbar, banner, h('div', { class: 'body' }, outline, main));

function zoomBy(f: number): void {
  if (viewer) setZoom(viewer.currentZoom * f);
}

function setZoom(z: number): void {
  if (!viewer) return;
  viewer.setZoom(z);
  zoomLabel.textContent = `${Math.round(viewer.currentZoom * 100)}%`;
  persist();
}

pageInput.addEventListener('change', () => viewer?.goToPage(Number(pageInput.value)));

let matches: { page: number; count: number }[] = [];
let matchAt = -1;
searchInput.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter') {
    ev.preventDefault();
    void runSearch(ev.shiftKey ? -1 : 1);
  }
});
let lastQuery = '';
async function runSearch(dir: number): Promise<void> {
  if (article) {
    searchInfo.textContent = findInArticle(article, searchInput.value, dir);
    return;
  }
  if (!viewer) return;
  const q = searchInput.value;
  if (q !== lastQuery) {
    lastQuery = q;
    matches = await viewer.search(q);
    matchAt = -1;
  }
  stepMatch(dir);
}

/** Selects and shows the next (dir 1) or previous (-1) match in a Markdown paper's text; returns the status line. */
function findInArticle(root: HTMLElement, query: string, dir: number): string {
  if (query !== lastQuery) {
    lastQuery = query;
    matchAt = -1;
  }
  const needle = query.toLowerCase();
  if (!needle) return '';
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes: { node: Text; start: number }[] = [];
  let text = '';
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    nodes.push({ node: n as Text, start: text.length });
    text += n.nodeValue ?? '';
  }
  const hay = text.toLowerCase();
  const hits: number[] = [];
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + needle.length)) hits.push(i);
  if (!hits.length) return 'no matches';
  matchAt = (matchAt + dir + hits.length) % hits.length;
  const at = (pos: number) => {
    const k = nodes.findLastIndex((x) => x.start <= pos);
    const hit = nodes[Math.max(0, k)]!;
    return { node: hit.node, offset: Math.min(pos - hit.start, hit.node.length) };
  };
  const from = at(hits[matchAt]!);
  const to = at(hits[matchAt]! + needle.length);
  const range = document.createRange();
  range.setStart(from.node, from.offset);
  range.setEnd(to.node, to.offset);
  const sel = window.getSelection();
  sel?.removeAllRanges();
  sel?.addRange(range);
  from.node.parentElement?.scrollIntoView({ block: 'center' });
  return `${matchAt + 1}/${hits.length} matches`;
}
function stepMatch(dir: number): void {
  if (article) return void runSearch(dir);
  if (!viewer) return;
  if (!matches.length) {
    searchInfo.textContent = lastQuery ? 'no matches' : '';
    return;
  }
  matchAt = (matchAt + dir + matches.length) % matches.length;
  const m = matches[matchAt]!;
  const total = matches.reduce((a, x) => a + x.count, 0);
  searchInfo.textContent = `${total} matches · page ${m.page} (${matchAt + 1}/${matches.length} pages)`;
  viewer.goToPage(m.page, true);
}

let pageTimer = 0;
function persist(): void {
  if (!doc || !viewer) return;
  clearTimeout(pageTimer);
  const v = viewer;
  pageTimer = window.setTimeout(
    () => send({ type: 'paper/page', page: v.currentPage(), zoom: v.currentZoom }),
    300,
  );
  const state: PaperViewState = {
    uri: doc.uri,
    ...(doc.source ? { source: doc.source } : {}),
    title: doc.title,
    sections: doc.sections,
    page: viewer.currentPage(),
    zoom: Math.min(5, Math.max(0.25, viewer.currentZoom)),
  };
  setState(state);
}

let pdfjsModule: Promise<typeof PdfJs> | null = null;
function loadPdfjs(): Promise<typeof PdfJs> {
  if (!pdfjsModule) {
    const url = app.dataset.pdfjs;
    const worker = app.dataset.worker;
    if (!url || !worker) throw new Error('pdf.js location missing from the page');
    pdfjsModule = (import(url) as Promise<typeof PdfJs>).then((m) => {
      m.GlobalWorkerOptions.workerSrc = worker;
      return m;
    });
  }
  return pdfjsModule;
}

function renderOutline(): void {
  const sections = doc?.sections ?? [];
  if (!sections.length) {
    outline.replaceChildren(h('div', { class: 'muted pad', text: 'No sections.' }));
    return;
  }
  outline.replaceChildren(
    h(
      'ul',
      {},
      ...sections.map((s) => {
        const b = h('button', {
          class: `section l${s.level}${s.id === reading ? ' reading' : ''}`,
          'data-section': s.id,
          title: s.title,
          'aria-current': s.id === reading ? 'true' : undefined,
        });
        b.append(h('span', { class: 'st', text: s.title }));
        if (s.id === reading) b.append(h('span', { class: 'badge', text: 'agent' }));
        b.addEventListener('click', () => void goToSection(s.id));
        return h('li', {}, b);
      }),
    ),
  );
}

/** Page of each section, in document order (a section starts on or after the previous one). */
async function mapSections(v: PdfViewer, sections: OutlineSection[]): Promise<void> {
  let from = 1;
  for (const s of sections) {
    if (viewer !== v) return;
    const page = await v.findHeading(s.title, from);
    if (page !== null) {
      sectionPages.set(s.id, page);
      from = page;
    }
  }
}

/** The heading element of a section in a Markdown paper: the first at or after the previous section's. */
function markdownHeading(id: string): HTMLElement | null {
  if (!article || !doc) return null;
  const headings = [...article.querySelectorAll<HTMLElement>('h1, h2, h3, h4, h5, h6')];
  let from = 0;
  for (const s of doc.sections) {
    const t = normalize(s.title);
    const at = headings.findIndex((el, i) => i >= from && normalize(el.textContent ?? '') === t);
    if (s.id === id) return at >= 0 ? headings[at]! : null;
    if (at >= 0) from = at;
  }
  return null;
}

function showHeading(el: HTMLElement): void {
  el.scrollIntoView({ block: 'start' });
  el.classList.add('flash');
  setTimeout(() => el.classList.remove('flash'), 900);
}

async function goToSection(id: string): Promise<void> {
  const s = doc?.sections.find((x) => x.id === id);
  if (s && article) {
    const el = markdownHeading(id);
    if (el) showHeading(el);
    else logHome('info', `section "${s.title}" not found in the paper`);
    return;
  }
  if (!s || !viewer) return;
  const dest = outlineDests.get(id);
  if (dest !== undefined && (await viewer.goToDestination(dest))) return;
  const page = sectionPages.get(id) ?? (await viewer.findHeading(s.title, 1));
  if (page === null) {
    logHome('info', `section "${s.title}" not found in the PDF text`);
    return;
  }
  viewer.goToPage(page, true);
  setTimeout(() => viewer?.markHeading(page, s.title), 400);
}

function showReading(): void {
  const s = doc?.sections.find((x) => x.id === reading);
  banner.hidden = !s;
  if (s) {
    const go = h('button', { class: 'link', text: 'Show' });
    go.addEventListener('click', () => void goToSection(s.id));
    banner.replaceChildren(h('span', { text: `The agent is reading: ${s.title}` }), go);
  }
  renderOutline();
}

/** The PDF's own outline (bookmarks), with each entry's destination kept in outlineDests. */
async function outlineFromPdf(pdf: PdfJs.PDFDocumentProxy): Promise<OutlineSection[]> {
  const items = await pdf.getOutline().catch(() => null);
  const out: OutlineSection[] = [];
  outlineDests.clear();
  const walk = (list: NonNullable<typeof items>, level: number, prefix: string) =>
    list.forEach((it, i) => {
      const n = `${prefix}${i + 1}`;
      const id = `pdf-${n}`; // never the id of a section from src/paper
      out.push({ id, title: it.title, level: Math.min(9, level) });
      if (it.dest) outlineDests.set(id, it.dest);
      if (it.items?.length) walk(it.items, level + 1, `${n}.`);
    });
  if (items) walk(items, 1, '');
  return out;
}

onMessage(toPaperSchema, (msg) => {
  switch (msg.type) {
    case 'paper/load':
      void load(msg);
      return;
    case 'paper/markdown':
      loadMarkdown(msg);
      return;
    case 'paper/highlight':
      reading = msg.sectionId;
      showReading();
      return;
    case 'paper/error':
      message.textContent = msg.message;
      message.classList.add('error');
      if (!main.contains(message)) main.replaceChildren(message);
      return;
  }
});

async function load(
  msg: Extract<import('../src/protocol/paper').ToPaper, { type: 'paper/load' }>,
): Promise<void> {
  try {
    const pdfjs = await loadPdfjs();
    const v = new PdfViewer(pdfjs);
    viewer?.close();
    viewer = v;
    article = null;
    app.classList.remove('markdown-paper');
    v.onExternalLink = openLink;
    main.replaceChildren(v.element);
    doc = {
      uri: msg.uri,
      ...(msg.source ? { source: msg.source } : {}),
      title: msg.title,
      sections: msg.sections,
    };
    sectionPages.clear();
    // A re-created webview (panel hidden and shown again) keeps its own page and zoom.
    const own = restored.uri === msg.uri ? restored : {};
    restored = {};
    const pdf = await v.open(msg.data, own.zoom ?? msg.zoom);
    const ownOutline = await outlineFromPdf(pdf);
    // A restored panel saved the PDF's own outline as its sections: it is read again from the PDF.
    if (!doc.sections.length || doc.sections.every((x) => x.id.startsWith('pdf-'))) doc.sections = ownOutline;
    fillPdfOutline(doc.sections === ownOutline ? [] : ownOutline);
    pageCount.textContent = `/ ${v.pageCount}`;
    pageInput.max = String(v.pageCount);
    zoomLabel.textContent = `${Math.round(v.currentZoom * 100)}%`;
    v.onPage = (p) => {
      pageInput.value = String(p);
      persist();
    };
    const page = own.page ?? msg.page;
    if (page) v.goToPage(page);
    renderOutline();
    showReading();
    persist();
    send({ type: 'paper/loaded', pages: v.pageCount });
    void mapSections(v, doc.sections);
  } catch (err) {
    const text = `Could not open the paper: ${err instanceof Error ? err.message : String(err)}`;
    main.replaceChildren(message);
    message.textContent = text;
    message.classList.add('error');
    logHome('error', text);
  }
}

function fillPdfOutline(entries: OutlineSection[]): void {
  pdfOutline.replaceChildren(
    h('option', { value: '', text: 'PDF outline…' }),
    ...entries.map((e) => h('option', { value: e.id, text: `${'\u2003'.repeat(e.level - 1)}${e.title}` })),
  );
  pdfOutline.hidden = entries.length === 0;
}

/** A web link from the paper goes to the host (which opens it in the browser after checking it). */
function openLink(url: string): void {
  send({ type: 'link/open', url });
}

/** A Markdown paper: rendered here (sanitised, see shared/markdown.ts), sections found by their headings. */
function loadMarkdown(
  msg: Extract<import('../src/protocol/paper').ToPaper, { type: 'paper/markdown' }>,
): void {
  viewer?.close();
  viewer = null;
  outlineDests.clear();
  fillPdfOutline([]);
  doc = {
    uri: msg.uri,
    ...(msg.source ? { source: msg.source } : {}),
    title: msg.title,
    sections: msg.sections,
  };
  const body = renderMarkdown(msg.markdown, 'md md-paper');
  onLink(body, (href) => {
    if (!href.startsWith('#')) return openLink(href);
    const id = decodeURIComponent(href.slice(1));
    const el = body.querySelector<HTMLElement>(`[id="md-${CSS.escape(id)}"], [id="${CSS.escape(id)}"]`);
    if (el) showHeading(el);
  });
  const scroller = h(
    'div',
    { class: 'md-scroll', tabindex: 0, role: 'document', 'aria-label': 'Paper' },
    body,
  );
  article = body;
  main.replaceChildren(scroller);
  // Without a section index from src/paper, the outline is the Markdown's own headings.
  if (!doc.sections.length) {
    doc.sections = [...body.querySelectorAll<HTMLElement>('h1, h2, h3, h4, h5, h6')].map((el, i) => ({
      id: `h${i + 1}`,
      title: (el.textContent ?? '').trim(),
      level: Number(el.tagName.slice(1)),
    }));
  }
  app.classList.add('markdown-paper');
  renderOutline();
  showReading();
  if (doc) {
    const state = {
      uri: doc.uri,
      ...(doc.source ? { source: doc.source } : {}),
      title: doc.title,
      sections: doc.sections,
      page: 1,
      zoom: 1,
    };
    setState(state satisfies PaperViewState);
  }
  send({ type: 'paper/loaded', pages: 1 });
}

// Keyboard: Ctrl/Cmd+F focuses search, +/- zoom.
window.addEventListener('keydown', (ev) => {
  if ((ev.ctrlKey || ev.metaKey) && ev.key === 'f') {
    ev.preventDefault();
    searchInput.focus();
  } else if ((ev.ctrlKey || ev.metaKey) && (ev.key === '=' || ev.key === '+')) {
    ev.preventDefault();
    zoomBy(1.2);
  } else if ((ev.ctrlKey || ev.metaKey) && ev.key === '-') {
    ev.preventDefault();
    zoomBy(1 / 1.2);
  }
});

// A restored panel shows its title while the extension reloads the file.
let restored = getState<PaperViewState>();
if (restored.title) message.textContent = `Loading ${restored.title}…`;
send({ type: 'ready' });
