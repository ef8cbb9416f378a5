/** Paper panel (runs in the webview): toolbar, section outline, lazily rendered PDF pages, search. */
import type * as PdfJs from 'pdfjs-dist';
import {
  type FromPaper,
  type OutlineSection,
  type PaperViewState,
  toPaperSchema,
} from '../src/protocol/paper';
import { paperCss } from './paper/styles';
import { PdfViewer } from './paper/viewer';
import { type Codicon, icon, installCodicons } from './shared/codicons';
import { getState, h, logHome, onMessage, post, setState } from './shared/vscode';

const send = (msg: FromPaper) => post(msg);
const app = document.getElementById('app') as HTMLElement;
installCodicons(app);
const style = document.createElement('style');
style.textContent = paperCss;
document.head.append(style);

let viewer: PdfViewer | null = null;
let doc: { uri: string; title: string; sections: OutlineSection[] } | null = null;
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
const outlineToggle = btn('list-flat', 'Toggle outline', () => outline.classList.toggle('hidden'), {
  'aria-controls': 'outline',
});
const toolbar = h(
  'div',
  { class: 'toolbar', role: 'toolbar', 'aria-label': 'Paper' },
  outlineToggle,
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
  searchInput,
  btn('arrow-up', 'Previous match', () => stepMatch(-1)),
  btn('arrow-down', 'Next match', () => stepMatch(1)),
  searchInfo,
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
  if (!viewer) return;
  const q = searchInput.value;
  if (q !== lastQuery) {
    lastQuery = q;
    matches = await viewer.search(q);
    matchAt = -1;
  }
  stepMatch(dir);
}
function stepMatch(dir: number): void {
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

async function goToSection(id: string): Promise<void> {
  const s = doc?.sections.find((x) => x.id === id);
  if (!s || !viewer) return;
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

async function outlineFromPdf(pdf: PdfJs.PDFDocumentProxy): Promise<OutlineSection[]> {
  const items = await pdf.getOutline().catch(() => null);
  const out: OutlineSection[] = [];
  const walk = (list: NonNullable<typeof items>, level: number, prefix: string) =>
    list.forEach((it, i) => {
      const id = `${prefix}${i + 1}`;
      out.push({ id, title: it.title, level: Math.min(9, level) });
      if (it.items?.length) walk(it.items, level + 1, `${id}.`);
    });
  if (items) walk(items, 1, '');
  return out;
}

onMessage(toPaperSchema, (msg) => {
  switch (msg.type) {
    case 'paper/load':
      void load(msg);
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
    main.replaceChildren(v.element);
    doc = { uri: msg.uri, title: msg.title, sections: msg.sections };
    sectionPages.clear();
    // A re-created webview (panel hidden and shown again) keeps its own page and zoom.
    const own = restored.uri === msg.uri ? restored : {};
    restored = {};
    const pdf = await v.open(msg.data, own.zoom ?? msg.zoom);
    if (!doc.sections.length) doc.sections = await outlineFromPdf(pdf);
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
