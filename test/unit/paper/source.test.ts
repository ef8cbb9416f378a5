import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { loadPaper, PaperError, resolveSource } from '../../../src/paper';

let server: Server;
let base = '';
const hits = new Map<string, number>();
let pdfBytes: Uint8Array;

async function tinyPdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const page = doc.addPage([595, 842]);
  page.drawText('Served Paper Title', { x: 72, y: 760, size: 20, font });
  for (let i = 0; i < 12; i++)
    page.drawText('Body text of the downloaded paper with enough characters to count as text.', {
      x: 72,
      y: 700 - i * 12,
      size: 10,
      font,
    });
  return doc.save();
}

before(async () => {
  pdfBytes = await tinyPdf();
  server = createServer((req, res) => {
    const url = req.url ?? '';
    hits.set(url, (hits.get(url) ?? 0) + 1);
    if (url === '/pdf/2602.17547' || url === '/papers/ok.pdf') {
      res.writeHead(200, { 'content-type': 'application/pdf' }).end(Buffer.from(pdfBytes));
    } else if (url === '/papers/page.html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Not a PDF</body></html>');
    } else if (url === '/papers/paper.md') {
      res.writeHead(200, { 'content-type': 'text/markdown' }).end('# Served MD\n\n## Intro\n\nHello.\n');
    } else if (url === '/papers/notes') {
      res.writeHead(200, { 'content-type': 'text/markdown' }).end('# Notes Paper\n\n## Method\n\nText.\n');
    } else if (url === '/slow.pdf') {
      // Never answers: the client's timeout must fire.
    } else res.writeHead(404, { 'content-type': 'text/plain' }).end('nope');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

test('resolveSource: arXiv ids and URLs map to the PDF URL; paths and URLs pass through', () => {
  const a = 'https://arxiv.org';
  assert.deepEqual(resolveSource('2602.17547'), {
    kind: 'url',
    url: `${a}/pdf/2602.17547`,
    arxivId: '2602.17547',
  });
  assert.deepEqual(resolveSource('arXiv:2602.17547v2'), {
    kind: 'url',
    url: `${a}/pdf/2602.17547v2`,
    arxivId: '2602.17547v2',
  });
  for (const s of [
    'https://arxiv.org/abs/2602.17547',
    'https://arxiv.org/pdf/2602.17547',
    'https://arxiv.org/pdf/2602.17547.pdf',
    'arxiv.org/abs/2602.17547',
    'https://www.arxiv.org/abs/2602.17547/',
  ])
    assert.deepEqual(resolveSource(s), { kind: 'url', url: `${a}/pdf/2602.17547`, arxivId: '2602.17547' }, s);
  assert.deepEqual(resolveSource('hep-th/9901001'), {
    kind: 'url',
    url: `${a}/pdf/hep-th/9901001`,
    arxivId: 'hep-th/9901001',
  });
  assert.deepEqual(resolveSource('https://example.org/x.pdf'), {
    kind: 'url',
    url: 'https://example.org/x.pdf',
  });
  const f = resolveSource('papers/a.pdf');
  assert.equal(f.kind, 'file');
  assert.throws(() => resolveSource('https://arxiv.org/list/cs.LG'), /not an arXiv paper URL/);
});

test('arXiv id downloads through the injectable base URL and is cached by URL', async () => {
  const cacheDir = await mkdtemp(join(tmpdir(), 'paper-cache-'));
  const p1 = await loadPaper('2602.17547', { cacheDir, arxivBaseUrl: base });
  assert.equal(p1.title, 'Served Paper Title');
  assert.equal(p1.source, `${base}/pdf/2602.17547`);
  assert.equal((await readdir(cacheDir)).filter((f) => f.endsWith('.pdf')).length, 1);
  const p2 = await loadPaper(`${base}/pdf/2602.17547`, { cacheDir, arxivBaseUrl: base });
  assert.equal(p2.title, p1.title);
  assert.equal(hits.get('/pdf/2602.17547'), 1, 'second load must come from the cache');
});

test('download errors: 404, HTML instead of PDF, timeout, refused connection — each names the URL', async () => {
  const cacheDir = await mkdtemp(join(tmpdir(), 'paper-cache-'));
  await assert.rejects(loadPaper(`${base}/missing.pdf`, { cacheDir }), (e: unknown) => {
    assert.ok(e instanceof PaperError);
    assert.equal(e.source, `${base}/missing.pdf`);
    assert.match(e.message, /HTTP 404/);
    return true;
  });
  await assert.rejects(
    loadPaper(`${base}/papers/page.html`, { cacheDir }),
    /returned an HTML page, not a PDF/,
  );
  await assert.rejects(
    loadPaper(`${base}/slow.pdf`, { cacheDir, timeoutMs: 300 }),
    /slow\.pdf: download timed out/,
  );
  await assert.rejects(
    loadPaper('http://127.0.0.1:9/x.pdf', { cacheDir }),
    /127\.0\.0\.1:9\/x\.pdf: download failed/,
  );
  assert.deepEqual(await readdir(cacheDir), [], 'failed downloads leave nothing in the cache');
});

test('a Markdown URL is taken as Markdown', async () => {
  const cacheDir = await mkdtemp(join(tmpdir(), 'paper-cache-'));
  const p = await loadPaper(`${base}/papers/paper.md`, { cacheDir });
  assert.equal(p.title, 'Served MD');
  assert.deepEqual(
    p.sections.map((s) => s.id),
    ['intro'],
  );
});

test('Markdown served without a .md name is still Markdown when read again from the cache (a resume)', async () => {
  const cacheDir = await mkdtemp(join(tmpdir(), 'paper-cache-'));
  const first = await loadPaper(`${base}/papers/notes`, { cacheDir });
  const again = await loadPaper(`${base}/papers/notes`, { cacheDir });
  assert.equal(hits.get('/papers/notes'), 1, 'the second read comes from the cache');
  for (const p of [first, again]) {
    assert.equal(p.title, 'Notes Paper');
    assert.deepEqual(
      p.sections.map((s) => s.id),
      ['method'],
    );
  }
});
