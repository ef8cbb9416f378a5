/**
 * Papers read from their LaTeX source: an e-print archive and a PDF built here and served on
 * 127.0.0.1 in arXiv's layout (/abs, /pdf, /e-print), local .tex files and local archives.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { createPaperReader, loadPaper, PaperError } from '../../../../src/paper';
import { BODY, makePaper } from '../../../support/paper-pdf';

const EQUATION = String.raw`\sum_{i=1}^{N} \log p_\theta(y_i \mid x_i)`;

const MAIN = String.raw`\documentclass[twocolumn]{article}
\usepackage{amsmath,booktabs}
% The method's name, as papers define it once and use it everywhere.
\newcommand{\method}{\textsc{BootNet}}
\newcommand{\nll}[1]{\mathcal{L}_{\mathrm{NLL}}(#1)}
\title{Equations as Written\thanks{Draft.}}
\author{Ada Lovelace \and Alan Turing}
\begin{document}
\maketitle
\begin{abstract}
We show that \method{} estimates error rates from a single run. % not in the paper
\end{abstract}
\section{Introduction}\label{sec:intro}
Resampling~\cite{efron1979} is old; \method{} is new. Section~\ref{sec:method} gives the loss,
Eq.~\eqref{eq:loss}, and Table~\ref{tab:results} the results.
\input{sections/method}
\section{Results}
\begin{table}[t]
  \centering
  \caption{Error of the bootstrap estimator.}\label{tab:results}
  \begin{tabular}{lcc}
    \toprule
    Method & Error (\%) & Runs \\
    \midrule
    \method & $0.12 \pm 0.01$ & 1000 \\
    Jackknife & 0.19 & 200 \\
    \bottomrule
  \end{tabular}
\end{table}
\begin{figure}[h]
  \includegraphics[width=\linewidth]{figures/curve.pdf}
  \caption{Error against the number of resamples.}\label{fig:curve}
\end{figure}
Figure~\ref{fig:curve} shows the error falls as $1/\sqrt{B}$.
\section{Conclusion}
\method{} works.
\bibliographystyle{plain}
\bibliography{refs}
\end{document}
`;

const METHOD = String.raw`\section{Method}\label{sec:method}
We fit $\theta$ by minimising
\begin{equation}\label{eq:loss}
  L(\theta) = -\sum_{i=1}^{N} \log p_\theta(y_i \mid x_i) + \lambda \|\theta\|_2^2
\end{equation}
where $\nll{\theta}$ is the first term.
\subsection{Datasets}
We draw $B$ bootstrap samples of each dataset, with replacement, as in the original study of the estimator.
`;

async function tarGz(files: Record<string, string | Uint8Array>): Promise<Uint8Array> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  for (const [name, data] of Object.entries(files)) p.entry({ name }, Buffer.from(data));
  p.finalize();
  await once(p, 'end');
  return new Uint8Array(gzipSync(Buffer.concat(chunks)));
}

/** A zip as Overleaf's "Download source" writes one: deflated entries, UTF-8 names, a central directory. */
function zipOf(files: Record<string, string>): Uint8Array {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text);
    const packed = deflateRawSync(data);
    const n = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc32(data), 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(20, 4);
    dir.writeUInt16LE(20, 6);
    dir.writeUInt16LE(0x800, 8);
    dir.writeUInt16LE(8, 10);
    dir.writeUInt32LE(crc32(data), 16);
    dir.writeUInt32LE(packed.length, 20);
    dir.writeUInt32LE(data.length, 24);
    dir.writeUInt16LE(n.length, 28);
    dir.writeUInt32LE(offset, 42);
    locals.push(local, n, packed);
    central.push(dir, n);
    offset += local.length + n.length + packed.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, cd, end]));
}

let server: Server;
let base = '';
let pdf: Uint8Array;
let archive: Uint8Array;
const hits = new Map<string, number>();

before(async () => {
  pdf = await makePaper();
  archive = await tarGz({
    'main.tex': MAIN,
    'sections/method.tex': METHOD,
    'figures/curve.pdf': pdf,
    'refs.bib': '@article{efron1979, title={Bootstrap methods}}',
  });
  const single = new Uint8Array(gzipSync(Buffer.from(MAIN.replace('\\input{sections/method}', METHOD))));
  const eprints: Record<string, Uint8Array> = {
    '2601.00001': archive,
    '2601.00002': archive.subarray(0, Math.floor(archive.length / 2)), // cut off mid-download
    '2601.00003': pdf, // arXiv serves the PDF as the e-print of a PDF-only submission
    '2601.00004': single,
    '2601.00005': await tarGz({ 'notes.txt': 'no TeX here' }),
    '2601.00006': await tarGz({ 'main.tex': MAIN }), // sections/method.tex not shipped
  };
  server = createServer((req, res) => {
    const url = req.url ?? '';
    hits.set(url, (hits.get(url) ?? 0) + 1);
    const m = /^\/(abs|pdf|e-print)\/(\d{4}\.\d{5})$/.exec(url);
    if (m?.[1] === 'pdf') res.writeHead(200, { 'content-type': 'application/pdf' }).end(Buffer.from(pdf));
    else if (m?.[1] === 'abs')
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>abstract page</html>');
    else if (m && eprints[m[2]!])
      res.writeHead(200, { 'content-type': 'application/gzip' }).end(Buffer.from(eprints[m[2]!]!));
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

const cache = () => mkdtemp(join(tmpdir(), 'latex-cache-'));

function assertFromLatex(md: string): void {
  // The equation exactly as written, as display math (with its number).
  assert.ok(md.includes(`$$\nL(\\theta) = -${EQUATION} + \\lambda \\|\\theta\\|_2^2 \\tag{1}\n$$`), md);
  // \input followed, macros expanded (in text and in math), citations and references readable.
  assert.match(md, /We fit \$\\theta\$ by minimising/);
  assert.match(md, /where \$\\mathcal\{L\}_\{\\mathrm\{NLL\}\}\(\\theta\)\$ is the first term/);
  assert.match(
    md,
    /Resampling \[cite\] is old; BootNet is new\. Section 2 gives the loss, Eq\. \(1\), and Table 1 the results\./,
  );
  assert.doesNotMatch(md, /\\method|\\newcommand|not in the paper|\\bibliography|\\input/);
  // The table as a table, the figure as its caption.
  assert.ok(
    md.includes(
      [
        '**Table 1:** Error of the bootstrap estimator.',
        '',
        '| Method | Error (%) | Runs |',
        '| --- | --- | --- |',
        '| BootNet | $0.12 \\pm 0.01$ | 1000 |',
        '| Jackknife | 0.19 | 200 |',
      ].join('\n'),
    ),
    md,
  );
  assert.match(
    md,
    /\*\*Figure 1:\*\* Error against the number of resamples\.\n\nFigure 1 shows the error falls as \$1\/\\sqrt\{B\}\$\./,
  );
}

test('arXiv id: the Markdown comes from the e-print LaTeX, the PDF is still downloaded for the panel', async () => {
  const cacheDir = await cache();
  const warnings: string[] = [];
  const paper = await loadPaper('2601.00001', {
    cacheDir,
    arxivBaseUrl: base,
    onWarning: (w) => warnings.push(w),
  });
  assert.deepEqual(warnings, []);
  assert.equal(paper.format, 'latex');
  assert.equal(paper.title, 'Equations as Written');
  assert.deepEqual(paper.authors, ['Ada Lovelace', 'Alan Turing']);
  assert.equal(paper.abstract, 'We show that BootNet estimates error rates from a single run.');
  assert.equal(paper.source, `${base}/pdf/2601.00001`);
  assertFromLatex(paper.markdown);
  assert.deepEqual(
    paper.sections.map((s) => [s.id, s.title, s.level]),
    [
      ['abstract', 'Abstract', 1],
      ['1', '1 Introduction', 1],
      ['2', '2 Method', 1],
      ['2.1', '2.1 Datasets', 2],
      ['3', '3 Results', 1],
      ['4', '4 Conclusion', 1],
    ],
  );
  // The agent's read_paper sees the same sections and finds the equation by its words.
  const reader = createPaperReader(paper);
  assert.match(reader.section('2') ?? '', /\\log p_\\theta\(y_i \\mid x_i\)/);
  assert.match(reader.search('bootstrap samples replacement'), /\[2\.1\] 2\.1 Datasets/);
  // The panel's PDF is the real download, in the cache.
  assert.ok(paper.pdfFile && existsSync(paper.pdfFile));
  assert.deepEqual(new Uint8Array(await readFile(paper.pdfFile)), pdf);
  // Both downloads are cached: a second load asks the server for nothing.
  const before = hits.get('/e-print/2601.00001');
  const again = await loadPaper('arXiv:2601.00001', { cacheDir, arxivBaseUrl: base });
  assert.equal(again.markdown, paper.markdown);
  assert.equal(hits.get('/e-print/2601.00001'), before);
  assert.equal(hits.get('/pdf/2601.00001'), 1);
});

test('arXiv URL with the base taken from KLONG_ARXIV_BASE; a single gzipped .tex e-print', async () => {
  const saved = process.env.KLONG_ARXIV_BASE;
  process.env.KLONG_ARXIV_BASE = base;
  try {
    const cacheDir = await cache();
    const paper = await loadPaper('https://arxiv.org/abs/2601.00004', { cacheDir });
    assert.equal(paper.format, 'latex');
    assertFromLatex(paper.markdown);
    assert.equal(paper.source, `${base}/pdf/2601.00004`);
  } finally {
    if (saved === undefined) delete process.env.KLONG_ARXIV_BASE;
    else process.env.KLONG_ARXIV_BASE = saved;
  }
});

test('a broken, PDF-only, TeX-less or missing e-print falls back to the PDF text, with the reason', async () => {
  const cases: [string, RegExp][] = [
    ['2601.00002', /source archive is damaged/],
    ['2601.00003', /no LaTeX source \(the e-print is a PDF\)/],
    ['2601.00005', /no \.tex file in the source/],
    ['2601.00009', /HTTP 404/],
  ];
  for (const [id, reason] of cases) {
    const cacheDir = await cache();
    const warnings: string[] = [];
    const paper = await loadPaper(id, { cacheDir, arxivBaseUrl: base, onWarning: (w) => warnings.push(w) });
    assert.equal(paper.format, undefined, id);
    assert.equal(paper.title, 'Tiny Reproducible Experiments', id);
    assert.ok(paper.markdown.includes(BODY.slice(0, 60)), id);
    assert.equal(warnings.length, 1, `${id}: ${warnings.join('\n')}`);
    assert.match(
      warnings[0]!,
      new RegExp(`^arXiv ${id}: reading the PDF's text .*because the LaTeX source could not be used: `),
    );
    assert.match(warnings[0]!, reason);
    assert.ok(paper.pdfFile && existsSync(paper.pdfFile), id);
    // What could not be read is not cached: the next load tries the source again.
    assert.deepEqual(
      (await readdir(cacheDir)).filter((f) => f.endsWith('.eprint')),
      [],
      id,
    );
  }
});

test('a source that lacks the files it \\inputs and so says much less than the PDF gives way to the PDF', async () => {
  const warnings: string[] = [];
  const paper = await loadPaper('2601.00006', {
    cacheDir: await cache(),
    arxivBaseUrl: base,
    onWarning: (w) => warnings.push(w),
  });
  assert.equal(paper.title, 'Tiny Reproducible Experiments');
  assert.equal(paper.format, undefined);
  assert.match(warnings.join('\n'), /\\input\{sections\/method\}: no such file in the source/);
  assert.match(
    warnings.join('\n'),
    /reading the PDF's text .* missing files \(1\) and gives less than half of the PDF's text/,
  );
});

test('without a PDF the LaTeX source alone is enough; without either the PDF error is the one given', async () => {
  const cacheDir = await cache();
  const warnings: string[] = [];
  // 2601.00001's PDF is served; make its PDF URL fail by pointing the PDF at a missing id through a URL.
  const paper = await loadPaper('2601.00001', {
    cacheDir,
    arxivBaseUrl: base,
    onWarning: (w) => warnings.push(w),
    fetch: (url, init) =>
      String(url).includes('/pdf/')
        ? Promise.resolve(new Response('gone', { status: 503 }))
        : fetch(url, init),
  });
  assert.equal(paper.format, 'latex');
  assert.equal(paper.pdfFile, undefined);
  assert.match(
    warnings.join('\n'),
    /read from its LaTeX source, but the PDF for the paper panel failed: .*HTTP 503/,
  );
  await assert.rejects(
    loadPaper('2601.00009', { cacheDir, arxivBaseUrl: `${base}/nothing` }),
    (e: unknown) => {
      assert.ok(e instanceof PaperError);
      assert.match(e.message, /\/pdf\/2601\.00009: download failed: HTTP 404/);
      return true;
    },
  );
});

test('a local .tex file with \\input, a local .tar.gz and an Overleaf .zip, read as the e-print is', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'latex-local-'));
  await mkdir(join(dir, 'paper', 'sections'), { recursive: true });
  await writeFile(join(dir, 'paper', 'main.tex'), MAIN);
  await writeFile(join(dir, 'paper', 'sections', 'method.tex'), METHOD);
  const fromTex = await loadPaper(join(dir, 'paper', 'main.tex'), { cacheDir: join(dir, 'cache') });
  assert.equal(fromTex.format, 'latex');
  assertFromLatex(fromTex.markdown);
  assert.equal(fromTex.pdfFile, undefined);
  // A PDF beside the .tex is the one the panel shows.
  await writeFile(join(dir, 'paper', 'main.pdf'), pdf);
  assert.equal(
    (await loadPaper(join(dir, 'paper', 'main.tex'), { cacheDir: dir })).pdfFile,
    join(dir, 'paper', 'main.pdf'),
  );

  await writeFile(join(dir, 'source.tar.gz'), archive);
  const fromTar = await loadPaper(join(dir, 'source.tar.gz'), { cacheDir: dir });
  assert.equal(fromTar.markdown, fromTex.markdown);
  assert.equal(fromTar.source, join(dir, 'source.tar.gz'));
  // An Overleaf download: a zip with the project in a folder of its own, and a supplement (bigger,
  // with a \documentclass of its own) that is not taken for the paper.
  const supplement = `\\documentclass{article}\\begin{document}\\section{Extra proofs}${'Long proof. '.repeat(2000)}\\end{document}`;
  await writeFile(
    join(dir, 'overleaf.zip'),
    zipOf({
      'proj/supplementary.tex': supplement,
      'proj/neurips.tex': MAIN,
      'proj/sections/method.tex': METHOD,
    }),
  );
  const fromZip = await loadPaper(join(dir, 'overleaf.zip'), { cacheDir: dir });
  assert.equal(fromZip.markdown, fromTex.markdown);
  const cut = zipOf({ 'main.tex': MAIN });
  await writeFile(join(dir, 'cut.zip'), cut.subarray(0, cut.length - 30));
  await assert.rejects(
    loadPaper(join(dir, 'cut.zip'), { cacheDir: dir }),
    /cut\.zip: the zip archive is damaged/,
  );
  assert.deepEqual(await readdir(join(dir, 'paper')), ['main.pdf', 'main.tex', 'sections']);
});

test('local sources: a missing \\input is a warning; files outside the .tex folder are not read; a broken archive is an error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'latex-local-'));
  await mkdir(join(dir, 'paper'));
  await writeFile(join(dir, 'secret.tex'), 'TOPSECRET');
  await writeFile(
    join(dir, 'paper', 'main.tex'),
    MAIN.replace(
      '\\input{sections/method}',
      '\\input{sections/missing}\\input{../secret}\\input{/etc/hostname}',
    ),
  );
  const warnings: string[] = [];
  const paper = await loadPaper(join(dir, 'paper', 'main.tex'), {
    cacheDir: dir,
    onWarning: (w) => warnings.push(w),
  });
  assert.doesNotMatch(paper.markdown, /TOPSECRET/);
  assert.match(warnings.join('\n'), /\\input\{sections\/missing\}: no such file in the source/);
  assert.match(warnings.join('\n'), /\\input\{\.\.\/secret\}: no such file/);
  assert.match(paper.markdown, /## 2 Results/);

  await writeFile(join(dir, 'broken.tgz'), archive.subarray(0, 200));
  await assert.rejects(loadPaper(join(dir, 'broken.tgz'), { cacheDir: dir }), (e: unknown) => {
    assert.ok(e instanceof PaperError);
    assert.match(e.message, /broken\.tgz: the source archive is damaged/);
    return true;
  });
  await assert.rejects(loadPaper(join(dir, 'absent.tex'), { cacheDir: dir }), /absent\.tex: file not found/);
});

const CLI = join(__dirname, '..', '..', '..', '..', 'dist', 'cli.js');

/** The built CLI as a child (async: the test's server must keep answering while it runs). */
async function klong(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => {
    out += b;
  });
  child.stderr.on('data', (b) => {
    err += b;
  });
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, out, err };
}

test('klong paper <arXiv id> with KLONG_ARXIV_BASE: the LaTeX Markdown, or the PDF with a warning on stderr', {
  skip: existsSync(CLI) ? false : 'dist/cli.js is missing: run `npm run build` first',
}, async () => {
  const state = await cache();
  const ok = await klong(['paper', '2601.00001', '--state-dir', state], { KLONG_ARXIV_BASE: base });
  assert.equal(ok.code, 0, ok.err);
  assertFromLatex(ok.out);
  assert.equal(ok.err, '');
  const broken = await klong(['paper', 'arxiv.org/abs/2601.00002', '--state-dir', state], {
    KLONG_ARXIV_BASE: base,
  });
  assert.equal(broken.code, 0, broken.err);
  assert.match(broken.out, /^# Tiny Reproducible Experiments/);
  assert.match(
    broken.err,
    /^warning: arXiv 2601\.00002: reading the PDF's text .* the source archive is damaged/m,
  );
});
