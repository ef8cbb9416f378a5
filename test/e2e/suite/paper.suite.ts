import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import * as vscode from 'vscode';
import { paperFromMarkdown, paperFromPdf } from '../../../src/paper/paper';
import { fetchSource, resolveSource } from '../../../src/paper/source';
import type { KlongUi } from '../../../src/ui/register';
import { makeLinkedPaper } from '../../support/paper-pdf';
import { EventFeed, klong } from './api';
import { hasDriver, repoRoot, screenshot, until, view } from './driver';

const paper = view('paper');
const sections = [
  { id: '1', title: 'Introduction', level: 1 },
  { id: '2', title: 'Method', level: 1 },
  { id: '2.1', title: 'Resampling estimator', level: 2 },
  { id: '3', title: 'Experiments', level: 1 },
];

/** A three-page paper with numbered headings, made here so the test needs no fixture. */
async function makePdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.TimesRoman);
  const bold = await doc.embedFont(StandardFonts.TimesRomanBold);
  const body = (n: number) =>
    Array.from(
      { length: 18 },
      (_, i) => `Line ${i + 1} of page ${n}: we measure the variance of the resampled mean.`,
    );
  const pages: [string, string | null][] = [
    ['1 Introduction', null],
    ['2 Method', '2.1 Resampling estimator'],
    ['3 Experiments', null],
  ];
  for (const [i, [h1, h2]] of pages.entries()) {
    const page = doc.addPage([612, 792]);
    if (i === 0) page.drawText('A Test Paper on Resampling', { x: 72, y: 730, size: 20, font: bold });
    page.drawText(h1, { x: 72, y: 690, size: 14, font: bold });
    let y = 664;
    for (const line of body(i + 1)) {
      page.drawText(line, { x: 72, y, size: 11, font });
      y -= 16;
    }
    if (h2) page.drawText(h2, { x: 72, y: y - 10, size: 12, font: bold });
  }
  return doc.save();
}

/** Links the webviews ask the host to open, recorded instead of opened (the test hook of ui.links). */
function recordLinks(ui: KlongUi): { opened: string[]; restore: () => void } {
  const links = ui.links;
  assert.ok(links, 'the test API has no links');
  const before = links.opener;
  const opened: string[] = [];
  links.opener = async (uri) => {
    opened.push(uri.toString(true));
    return true;
  };
  return { opened, restore: () => (links.opener = before) };
}

/** A loopback server that serves `body` for every path and counts the requests per path. */
async function serve(body: Uint8Array, type: string) {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
    res.writeHead(200, { 'content-type': type, 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, hits, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const MARKDOWN_PAPER = String.raw`# Resampling, in Markdown

Ada Lovelace

## Abstract

We study the resampled mean $\hat{\theta}_n = \frac{1}{n} \sum_i x_i * w_i$ on a laptop.

## 1 Introduction

<script>window.__klongPwned = 1; document.title = 'pwned'</script>
<img src=x onerror="window.__klongPwned = 2">

The code is at [our repository](https://example.org/resampling-code); see [the method](#2-method).

## 2 Method

$$
\operatorname{Var}(\hat{\theta}) = \frac{\sigma^2}{n}
$$

- draw B resamples
- average them

## 3 Experiments

Nothing surprising.
`;

describe('paper panel', () => {
  before(function () {
    if (!hasDriver()) this.skip();
  });

  it('renders the PDF, outlines its sections, searches, zooms and highlights what the agent reads', async () => {
    const ui = await klong();
    const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(ws, 'no workspace folder');
    const file = join(ws, 'test-paper.pdf');
    writeFileSync(file, await makePdf());

    const loaded = new Promise<number>((resolve) => {
      void ui.paper.show({ uri: vscode.Uri.file(file), title: 'A Test Paper', sections }).then((p) => {
        if (p.pages) resolve(p.pages);
        p.onDidLoad(resolve);
      });
    });
    assert.equal(await loaded, 3);
    await paper.waitFor('.page.rendered canvas');
    await paper.waitFor('.textLayer span', { text: 'Introduction' });
    assert.equal(await paper.count('.page'), 3);
    assert.equal(await paper.count('#outline [data-section]'), 4);
    assert.match(await paper.text('#page-count'), /3/);

    // The agent reads section 2.1: the outline marks it and a banner names it.
    const feed = new EventFeed(ui);
    feed.push({ type: 'tool_call', step: 1, callId: 'r1', name: 'read_paper', args: '{"section":"2.1"}' });
    await paper.waitFor('#outline button.reading[data-section="2.1"]');
    await paper.waitFor('#reading', { text: 'Resampling estimator' });

    // Outline navigation goes to the heading's page.
    await paper.click('#outline [data-section="3"]');
    await until(
      'page 3',
      async () => (await paper.evaluate<string>(`document.getElementById('page').value`)) === '3',
    );

    // Search finds the term on every page.
    await paper.fill('#search', 'resampled mean');
    await paper.press('#search', 'Enter');
    await paper.waitFor('#search-info', { text: 'matches' });
    assert.match(await paper.text('#search-info'), /54 matches/);

    const before = await paper.text('#zoom');
    await paper.click('#zoom-in');
    await until('zoom label changed', async () => (await paper.text('#zoom')) !== before);
    await paper.waitFor('.page.rendered canvas');
    await screenshot('paper-panel-generated');

    // Hidden (another editor in its group) and shown again: the webview is re-created and reloads.
    const panel = ui.paper.current;
    assert.ok(panel);
    const doc = await vscode.workspace.openTextDocument({ content: 'notes', language: 'markdown' });
    await vscode.window.showTextDocument(doc, { viewColumn: panel.panel.viewColumn, preview: false });
    await until('panel hidden', () => !panel.panel.visible);
    panel.panel.reveal(undefined, false);
    await until('panel visible', () => panel.panel.visible);
    await paper.waitFor('.page.rendered canvas');
    assert.equal(await paper.count('#outline [data-section]'), 4);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('shows the paper as the agent reads it, and names the problem of a broken PDF', async () => {
    const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(ws, 'no workspace folder');
    const file = join(ws, 'agent-view.pdf');
    writeFileSync(file, await makePdf());
    await vscode.commands.executeCommand('klong.showPaperText', vscode.Uri.file(file));
    const editor = await until('the paper as Markdown', () => {
      const e = vscode.window.activeTextEditor;
      return e?.document.isUntitled && e.document.languageId === 'markdown' ? e : undefined;
    });
    const text = editor?.document.getText() ?? '';
    assert.match(text, /^# A Test Paper on Resampling$/m);
    assert.match(text, /^## 2 Method$/m);
    assert.match(text, /^### 2\.1 Resampling estimator$/m);
    assert.match(text, /we measure the variance of the resampled mean/);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');

    const broken = join(ws, 'broken.pdf');
    writeFileSync(broken, '%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n'); // cut off: no %%EOF
    await vscode.commands.executeCommand('klong.showPaperText', vscode.Uri.file(broken));
    await view('workbench').waitFor('.notification-toast', {
      text: 'KLong: broken.pdf: the PDF is truncated',
    });
    await vscode.commands.executeCommand('notifications.clearAll');
  });

  it('renders pages lazily: a 40-page paper keeps only pages near the view', async () => {
    const ui = await klong();
    const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath as string;
    const doc = await PDFDocument.create();
    const font = await doc.embedFont(StandardFonts.Helvetica);
    for (let i = 1; i <= 40; i++)
      doc.addPage([612, 792]).drawText(`Page number ${i}`, { x: 72, y: 700, size: 24, font });
    const file = join(ws, 'long-paper.pdf');
    writeFileSync(file, await doc.save());
    const p = await ui.paper.show({ uri: vscode.Uri.file(file), title: 'Long paper', zoom: 1 });
    await until('long paper loaded', () => p.pages === 40);
    await paper.waitFor('.page[data-page-number="1"].rendered canvas');
    const early = await paper.count('.page.rendered');
    assert.ok(early >= 1 && early <= 10, `${early} of 40 pages rendered at the start`);
    await paper.fill('#page', '40');
    await paper.press('#page', 'Enter');
    await paper.waitFor('.page[data-page-number="40"].rendered canvas');
    await paper.waitFor('.textLayer span', { text: 'Page number 40' });
    const late = await paper.count('.page.rendered');
    assert.ok(late <= 10, `${late} pages kept rendered after jumping to the end`);
    assert.equal(
      await paper.count('.page[data-page-number="20"].rendered'),
      0,
      'the pages jumped over were never rendered',
    );
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('restores a serialized panel from its saved state', async () => {
    const ui = await klong();
    const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath as string;
    const uri = vscode.Uri.file(join(ws, 'test-paper.pdf'));
    // What VS Code does after a reload: a new panel of our type plus the state the webview saved.
    const panel = vscode.window.createWebviewPanel('klong.paper', 'Restored', vscode.ViewColumn.One, {});
    await ui.paper.deserializeWebviewPanel(panel, {
      uri: uri.toString(),
      title: 'Restored paper',
      sections,
      page: 2,
      zoom: 1,
    });
    await until('restored panel loaded', () => ui.paper.current?.pages === 3);
    await paper.waitFor('.page.rendered canvas');
    await until(
      'page 2',
      async () => (await paper.evaluate<string>(`document.getElementById('page').value`)) === '2',
    );
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  const fixture = join(
    repoRoot(),
    '..',
    'shared',
    'fixtures',
    'papers',
    'etherington-lieske-resampling',
    'paper.pdf',
  );
  it('shows the fixture paper with the section index from src/paper', async function () {
    if (!existsSync(fixture)) {
      console.log(`      (skipped: ${fixture} is absent)`);
      this.skip();
    }
    const ui = await klong();
    const bytes = readFileSync(fixture);
    const index = await paperFromPdf(new Uint8Array(bytes), fixture);
    assert.ok(index.sections.length >= 3, `only ${index.sections.length} sections found`);
    const p = await ui.paper.show({
      uri: vscode.Uri.file(fixture),
      title: index.title,
      sections: index.sections,
    });
    await until('fixture loaded', () => p.pages > 0);
    await paper.waitFor('.page.rendered canvas');
    assert.equal(await paper.count('#outline [data-section]'), index.sections.length);
    const second = index.sections[Math.min(2, index.sections.length - 1)]!;
    ui.paper.highlight(second.id);
    await paper.waitFor(`#outline button.reading[data-section="${second.id}"]`);
    await paper.click(`#outline [data-section="${second.id}"]`);
    await new Promise((r) => setTimeout(r, 800));
    await screenshot('paper-panel-fixture');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('renders a Markdown paper: headings, math as written, raw HTML as text, links through the host', async () => {
    const ui = await klong();
    const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath as string;
    const file = join(ws, 'markdown-paper.md');
    writeFileSync(file, MARKDOWN_PAPER);
    const index = paperFromMarkdown(MARKDOWN_PAPER, file);
    const links = recordLinks(ui);
    try {
      const p = await ui.paper.show({
        uri: vscode.Uri.file(file),
        title: index.title,
        sections: index.sections,
      });
      await until('markdown paper loaded', () => p.pages === 1);
      await paper.waitFor('.md-paper h1', { text: 'Resampling, in Markdown' });
      assert.deepEqual(
        await paper.evaluate<string[]>(
          `[...document.querySelectorAll('.md-paper h2')].map((e) => e.textContent)`,
        ),
        ['Abstract', '1 Introduction', '2 Method', '3 Experiments'],
      );
      assert.equal(await paper.count('#outline [data-section]'), index.sections.length);
      // Math keeps its underscores and stars (no emphasis made of them).
      assert.equal(await paper.text('.md-paper .math'), '\\hat{\\theta}_n = \\frac{1}{n} \\sum_i x_i * w_i');
      assert.match(await paper.text('.md-paper .math.display'), /\\operatorname\{Var\}/);
      assert.equal(await paper.count('.md-paper em'), 0);
      // Raw HTML is shown as text and never runs.
      assert.equal(await paper.count('.md-paper script, .md-paper img'), 0);
      await paper.waitFor('.md-paper p', { text: '<script>window.__klongPwned = 1' });
      assert.equal(await paper.evaluate<string>('typeof window.__klongPwned'), 'undefined');
      // A web link goes to the host (which would open the browser); nothing navigates in the webview.
      await paper.click('.md-paper a[href="https://example.org/resampling-code"]');
      await until('link opened through the host', () =>
        links.opened.includes('https://example.org/resampling-code'),
      );
      await paper.waitFor('.md-paper h1');
      // The agent reads section 2: the outline marks it; the outline scrolls to its heading.
      const method = index.sections.find((x) => x.title === '2 Method');
      assert.ok(method, `no "2 Method" in ${index.sections.map((x) => x.title).join(', ')}`);
      ui.paper.highlight(method.id);
      await paper.waitFor(`#outline button.reading[data-section="${method.id}"]`);
      await paper.click(`#outline [data-section="${method.id}"]`);
      await paper.waitFor('.md-paper h2.flash', { text: '2 Method' });
      await screenshot('paper-panel-markdown');
      // Search selects the match in the rendered text (PDF-only controls are hidden).
      assert.equal(
        await paper.evaluate<boolean>(`document.getElementById('zoom-in').checkVisibility()`),
        false,
      );
      await paper.fill('#search', 'surprising');
      await paper.press('#search', 'Enter');
      await paper.waitFor('#search-info', { text: '1/1 matches' });
      assert.equal(await paper.evaluate<string>('String(window.getSelection())'), 'surprising');
      await paper.fill('#search', 'no such words');
      await paper.press('#search', 'Enter');
      await paper.waitFor('#search-info', { text: 'no matches' });
    } finally {
      links.restore();
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  it('opens a PDF from a URL once: later opens, an arXiv id and a restored panel read the download cache', async () => {
    const ui = await klong();
    const linked = await makeLinkedPaper('https://example.org/code');
    const server = await serve(linked.bytes, 'application/pdf');
    try {
      const url = `${server.base}/papers/linked.pdf`;
      const first = await ui.paper.show({ source: url, title: 'From a URL' });
      await until('URL paper loaded', () => first.pages === 3);
      await paper.waitFor('.page.rendered canvas');
      assert.equal(server.hits.get('/papers/linked.pdf'), 1);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');

      const again = await ui.paper.show({ source: url, title: 'From a URL, again' });
      await until('URL paper loaded again', () => again.pages === 3);
      await paper.waitFor('.page.rendered canvas');
      assert.equal(server.hits.get('/papers/linked.pdf'), 1, 'the second open fetched the PDF again');

      // A window reload restores the panel from its saved state: the URL, read from the cache.
      const panel = vscode.window.createWebviewPanel('klong.paper', 'Restored', vscode.ViewColumn.One, {});
      await ui.paper.deserializeWebviewPanel(panel, {
        uri: url,
        source: url,
        title: 'Restored from a URL',
        sections: [],
        page: 2,
        zoom: 1,
      });
      await until('restored URL paper loaded', () => ui.paper.current?.pages === 3);
      assert.equal(server.hits.get('/papers/linked.pdf'), 1);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');

      // An arXiv id: the engine downloads it into the same cache when a session starts (here with a
      // stand-in for arxiv.org, since the test is offline); the panel then needs no network at all.
      let arxivFetches = 0;
      await fetchSource(resolveSource('2602.17547'), {
        cacheDir: ui.paper.cacheDir,
        fetch: async () => {
          arxivFetches++;
          return new Response(Buffer.from(linked.bytes), { headers: { 'content-type': 'application/pdf' } });
        },
      });
      const arxiv = await ui.paper.show({ source: 'arXiv:2602.17547', title: 'From arXiv' });
      await until('arXiv paper loaded', () => arxiv.pages === 3);
      await paper.waitFor('.page.rendered canvas');
      assert.equal(arxivFetches, 1);
      await screenshot('paper-panel-url');

      // Markdown at a URL without a .md name (served as text/markdown): rendered, also from the cache.
      const md = await serve(new TextEncoder().encode(MARKDOWN_PAPER), 'text/markdown; charset=utf-8');
      try {
        for (const time of ['first', 'second']) {
          await ui.paper.show({ source: `${md.base}/paper`, title: `Markdown URL, ${time} time` });
          await paper.waitFor('.md-paper h1', { text: 'Resampling, in Markdown' });
          await vscode.commands.executeCommand('workbench.action.closeAllEditors');
        }
        assert.equal(md.hits.get('/paper'), 1);
      } finally {
        await md.close();
      }
    } finally {
      await server.close();
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  it('makes the links of a PDF clickable and navigates its outline', async () => {
    const ui = await klong();
    const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath as string;
    const target = 'https://example.org/code?from=pdf';
    const linked = await makeLinkedPaper(target);
    const file = join(ws, 'linked-paper.pdf');
    writeFileSync(file, linked.bytes);
    const links = recordLinks(ui);
    try {
      // Without a section index the sidebar is the PDF's own outline (with its nested entry).
      const p = await ui.paper.show({ uri: vscode.Uri.file(file), title: 'Linked', zoom: 1 });
      await until('linked paper loaded', () => p.pages === 3);
      await paper.waitFor('#outline [data-section]');
      assert.deepEqual(
        await paper.evaluate<string[]>(
          `[...document.querySelectorAll('#outline [data-section]')].map((b) => b.className.match(/l\\d/)[0] + ' ' + b.textContent)`,
        ),
        linked.outline.map((o) => `l${o.level} ${o.title}`),
      );
      // The web link: an anchor of pdf.js's annotation layer; clicking it asks the host to open it.
      await paper.waitFor('.page[data-page-number="1"] .annotationLayer .linkAnnotation a[data-external]');
      assert.equal(
        await paper.evaluate<string>(`document.querySelector('.annotationLayer a[data-external]').href`),
        target,
      );
      await screenshot('paper-panel-links');
      await paper.click('.page[data-page-number="1"] .annotationLayer a[data-external]');
      await until('PDF link opened through the host', () => links.opened.includes(target));
      // The internal link ("See Section 3") scrolls to page 3.
      await paper.click('.page[data-page-number="1"] .annotationLayer section[data-internal-link] > a');
      const page = () => paper.evaluate<string>(`document.getElementById('page').value`);
      await until('page 3 from the internal link', async () => (await page()) === '3');
      // The outline goes to each entry's destination.
      await paper.click('#outline [data-section="pdf-1"]');
      await until('page 1 from the outline', async () => (await page()) === '1');
      await paper.click('#outline [data-section="pdf-2.1"]');
      await until('page 2 from the nested entry', async () => (await page()) === '2');
      assert.equal(links.opened.length, 1, `only the web link opened anything: ${links.opened.join(', ')}`);

      // With src/paper's sections in the sidebar, the PDF's outline is a dropdown in the toolbar.
      const index = await paperFromPdf(linked.bytes, file);
      await ui.paper.show({ uri: vscode.Uri.file(file), title: 'Linked', sections: index.sections, zoom: 1 });
      await paper.waitFor('#pdf-outline:not([hidden])');
      assert.equal(await paper.count('#pdf-outline option'), linked.outline.length + 1);
      await paper.evaluate(
        `(() => { const s = document.getElementById('pdf-outline'); s.value = 'pdf-3'; s.dispatchEvent(new Event('change')); })()`,
      );
      await until('page 3 from the dropdown', async () => (await page()) === '3');
    } finally {
      links.restore();
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });
});
