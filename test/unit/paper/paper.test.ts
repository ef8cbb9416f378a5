import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PDFDocument, PDFHexString, PDFName, rgb, StandardFonts } from 'pdf-lib';
import {
  createPaperReader,
  loadPaper,
  PaperError,
  paperFromMarkdown,
  paperFromPdf,
  readSection,
  searchPaper,
} from '../../../src/paper';
import { FIXTURES, fixturesSkip } from '../../support/fixtures';
import { makePaper } from '../../support/paper-pdf';

const papersDir = join(FIXTURES, 'papers');
const noFixtures = fixturesSkip(papersDir);

test('generated PDF: title, authors, abstract, numbered headings with levels, de-hyphenation', async () => {
  const paper = await paperFromPdf(await makePaper(), 'gen.pdf');
  assert.equal(paper.title, 'Tiny Reproducible Experiments');
  assert.deepEqual(paper.authors, ['Ada Lovelace', 'Alan Turing']);
  assert.match(paper.abstract, /^We show that a tiny experiment/);
  assert.deepEqual(
    paper.sections.map((s) => [s.id, s.title, s.level]),
    [
      ['abstract', 'Abstract', 1],
      ['1', '1 Introduction', 1],
      ['2', '2 Method', 1],
      ['2.1', '2.1 Datasets', 2],
      ['3', '3 Results', 1],
      ['references', 'References', 1],
    ],
  );
  assert.match(paper.markdown, /The central experiment of this paper/);
  assert.doesNotMatch(paper.markdown, /experi- ment/);
  assert.match(paper.markdown, /^### 2\.1 Datasets$/m);
  assert.match(paper.markdown, /\*\*Table 1:\*\* Results of the bootstrap estimator\./);
  // Ranges: a section contains its subsections and ends where the next sibling starts.
  const method = paper.sections.find((s) => s.id === '2')!;
  const results = paper.sections.find((s) => s.id === '3')!;
  assert.equal(method.end, results.start);
  assert.match(readSection(paper, '2')!, /^## 2 Method[\s\S]*### 2\.1 Datasets/);
  assert.equal(readSection(paper, 'nope'), undefined);
});

/** A two-column page: full-width title, then Introduction flowing from the left column into the right. */
async function makeTwoColumn(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.TimesRoman);
  const bold = await doc.embedFont(StandardFonts.TimesRomanBold);
  const page = doc.addPage([612, 792]);
  page.drawText('Columns Are Read In Order', { x: 150, y: 730, size: 20, font: bold });
  // Authors set apart in one row with superscript affiliation marks, as in NeurIPS/ICML headers.
  page.drawText('Grace Hopper', { x: 160, y: 705, size: 11, font });
  page.drawText('1', { x: 222, y: 709, size: 7, font });
  page.drawText('Edsger W. Dijkstra', { x: 330, y: 705, size: 11, font });
  page.drawText('2*', { x: 416, y: 709, size: 7, font });
  const col = (x: number, lines: [string, number?][]) => {
    let y = 660;
    for (const [t, size = 10] of lines) {
      page.drawText(t, { x, y, size, font: size === 10 ? font : bold });
      y -= size === 10 ? 12 : 20;
    }
  };
  const body = (tag: string, n: number): [string][] =>
    Array.from({ length: n }, (_, i) => [`${tag} line ${i + 1} of the column text runs on here`]);
  col(54, [['1 Introduction', 12], ...body('Left', 40), ['and the sentence that ends the left column con-']]);
  col(318, [
    ['tinues at the top of the right column.'],
    ...body('Right', 10),
    ['2 Method', 12],
    ...body('Method', 28),
  ]);
  return doc.save();
}

test('two-column page: left column read before the right, paragraph joined across columns', async () => {
  const paper = await paperFromPdf(await makeTwoColumn(), 'two.pdf');
  assert.equal(paper.title, 'Columns Are Read In Order');
  assert.deepEqual(paper.authors, ['Grace Hopper', 'Edsger W. Dijkstra']);
  assert.deepEqual(
    paper.sections.map((s) => s.title),
    ['1 Introduction', '2 Method'],
  );
  const md = paper.markdown;
  assert.ok(md.indexOf('Left line 40') < md.indexOf('Right line 1'), 'left column first');
  assert.match(md, /ends the left column continues at the top of the right column\./);
  assert.ok(
    md.indexOf('Right line 10') < md.indexOf('## 2 Method') &&
      md.indexOf('## 2 Method') < md.indexOf('Method line 1 '),
  );
});

/**
 * LaTeX's twocolumn geometry on A4: columns 72–300.6 and 311.4–540 (a 10 pt gutter, off the page
 * centre), justified lines drawn word by word, a subsection heading in the right column whose baseline
 * falls between two left-column lines, and a page number at the bottom.
 */
async function makeLatexLike(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.TimesRoman);
  const bold = await doc.embedFont(StandardFonts.TimesRomanBold);
  const page = doc.addPage([595.28, 841.89]);
  const width = 228.6;
  const justified = (words: string[], x: number, y: number) => {
    const w = words.reduce((n, t) => n + font.widthOfTextAtSize(t, 10), 0);
    const gap = (width - w) / (words.length - 1);
    let at = x;
    for (const t of words) {
      page.drawText(t, { x: at, y, size: 10, font });
      at += font.widthOfTextAtSize(t, 10) + gap;
    }
  };
  const vocab = 'the model we fit has a small set of data and runs fast'.split(' ');
  const line = (k: number) =>
    Array.from({ length: 6 }, (_, i) => vocab[(k * 3 + i) % vocab.length]!).concat(`L${k}`);
  // A full-width title block crosses the gutter above the columns (\twocolumn[...] in LaTeX).
  page.drawText('Narrow Gutters Everywhere', { x: 200, y: 815, size: 17, font: bold });
  for (let k = 0; k < 4; k++)
    page.drawText(`abstract ${k}: ${'a wide line that runs across both columns of the page '.repeat(2)}`, {
      x: 92,
      y: 798 - k * 10,
      size: 9,
      font,
    });
  page.drawText('4 Experiments', { x: 72, y: 754, size: 12, font: bold });
  for (let k = 0; k < 50; k++) justified(line(k), 72, 740 - k * 12);
  page.drawText('4.1 Ablations', { x: 311.4, y: 735, size: 12, font: bold });
  for (let k = 50; k < 100; k++) justified(line(k), 311.4, 740 - 18 - (k - 50) * 12);
  page.drawText('3', { x: 295, y: 120, size: 10, font });
  return doc.save();
}

test('LaTeX-like two columns: 10 pt gutter off-centre, heading between baselines, page number', async () => {
  const paper = await paperFromPdf(await makeLatexLike(), 'latex.pdf');
  assert.equal(paper.title, 'Narrow Gutters Everywhere');
  assert.deepEqual(
    paper.sections.map((s) => [s.id, s.level]),
    [
      ['4', 1],
      ['4.1', 2],
    ],
  );
  const exp = readSection(paper, '4')!;
  // The left column is one paragraph in order, and none of the right column's words is mixed into it.
  const left = exp.slice(exp.indexOf('\n\n') + 2, exp.indexOf('### 4.1'));
  const marks = [...left.matchAll(/\bL(\d+)\b/g)].map((m) => Number(m[1]));
  assert.deepEqual(
    marks,
    Array.from({ length: 50 }, (_, k) => k),
  );
  const right = readSection(paper, '4.1')!;
  assert.deepEqual(
    [...right.matchAll(/\bL(\d+)\b/g)].map((m) => Number(m[1])),
    Array.from({ length: 50 }, (_, k) => k + 50),
  );
  assert.doesNotMatch(paper.markdown, /^3$/m, 'page number dropped');
});

test('article-class abstract: small centred "Abstract", indented smaller paragraph, indented first lines', async () => {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.TimesRoman);
  const bold = await doc.embedFont(StandardFonts.TimesRomanBold);
  const page = doc.addPage([612, 792]);
  page.drawText('Small Models Generalize', { x: 200, y: 700, size: 17, font });
  page.drawText('Abstract', { x: 287, y: 640, size: 10, font: bold });
  for (let i = 0; i < 5; i++)
    page.drawText(`abstract line ${i} says what the paper shows about small models and data`, {
      x: 140,
      y: 622 - i * 12,
      size: 10,
      font,
    });
  page.drawText('1 Introduction', { x: 108, y: 540, size: 14, font: bold });
  let y = 515;
  for (const p of [0, 1])
    for (let i = 0; i < 6; i++) {
      // A new paragraph starts with an indented line, without extra space above it.
      y -= 13.6;
      page.drawText(`paragraph ${p} line ${i} of the introduction with enough words to fill it.`, {
        x: i === 0 ? 123 : 108,
        y,
        size: 11,
        font,
      });
    }
  const paper = await paperFromPdf(await doc.save(), 'article.pdf');
  assert.deepEqual(
    paper.sections.map((s) => s.title),
    ['Abstract', '1 Introduction'],
  );
  assert.match(
    paper.abstract,
    /^abstract line 0 says .* abstract line 4 says what the paper shows about small models and data$/,
  );
  const intro = readSection(paper, '1')!.split('\n\n');
  assert.equal(intro.length, 3, intro.join('\n---\n'));
  assert.match(intro[1]!, /^paragraph 0 line 0 .* paragraph 0 line 5 /);
  assert.match(intro[2]!, /^paragraph 1 line 0 /);
});

test('broken inputs give a PaperError that names the file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'paper-bad-'));
  const good = await makePaper();

  await t.test('truncated', async () => {
    const f = join(dir, 'truncated.pdf');
    await writeFile(f, good.subarray(0, Math.floor(good.length / 2)));
    await assert.rejects(loadPaper(f, { cacheDir: dir }), (e: unknown) => {
      assert.ok(e instanceof PaperError);
      assert.match(e.message, /truncated\.pdf: .*truncated/);
      return true;
    });
  });

  await t.test('not a PDF', async () => {
    const f = join(dir, 'notes.pdf');
    await writeFile(f, '<html><body>hello</body></html>');
    await assert.rejects(loadPaper(f, { cacheDir: dir }), /notes\.pdf: not a PDF file/);
  });

  await t.test('missing file', async () => {
    await assert.rejects(
      loadPaper(join(dir, 'absent.pdf'), { cacheDir: dir }),
      /absent\.pdf: file not found/,
    );
  });

  await t.test('no text layer (scanned)', async () => {
    const doc = await PDFDocument.create();
    for (let i = 0; i < 2; i++)
      doc
        .addPage([595, 842])
        .drawRectangle({ x: 50, y: 50, width: 400, height: 600, color: rgb(0.5, 0.5, 0.5) });
    const f = join(dir, 'scan.pdf');
    await writeFile(f, await doc.save());
    await assert.rejects(loadPaper(f, { cacheDir: dir }), /scan\.pdf: the PDF has no text layer .*OCR/);
  });

  await t.test('encrypted', async () => {
    const doc = await PDFDocument.load(good);
    // A standard security handler whose user password is not empty: pdf.js must ask for a password.
    const enc = doc.context.obj({
      Filter: 'Standard',
      V: 1,
      R: 2,
      P: -4,
      O: PDFHexString.of('11'.repeat(32)),
      U: PDFHexString.of('22'.repeat(32)),
    });
    doc.context.trailerInfo.Encrypt = doc.context.register(enc);
    doc.context.trailerInfo.ID = doc.context.obj([
      PDFHexString.of('ab'.repeat(16)),
      PDFHexString.of('ab'.repeat(16)),
    ]);
    void PDFName;
    const f = join(dir, 'locked.pdf');
    await writeFile(f, await doc.save({ useObjectStreams: false }));
    await assert.rejects(loadPaper(f, { cacheDir: dir }), /locked\.pdf: the PDF is encrypted/);
  });

  await t.test('empty markdown', async () => {
    const f = join(dir, 'empty.md');
    await writeFile(f, '  \n');
    await assert.rejects(loadPaper(f, { cacheDir: dir }), /empty\.md: the Markdown file is empty/);
  });
});

const EXPECTED = {
  'etherington-lieske-resampling': {
    title: '[Re] Resampling methods for evaluating classification accuracy of wildlife habitat models',
    authors: ['Thomas R. Etherington', 'David J. Lieske'],
    sections: [
      [1, 'Introduction'],
      [1, 'Prediction error'],
      [1, 'Resampling methods'],
      [2, 'Resubstitution'],
      [2, 'Hold-out cross-validation'],
      [2, 'K-fold cross-validation'],
      [2, 'Bootstrap cross-validation'],
      [1, 'Computational experiment replication'],
      [2, 'Random datasets'],
      [2, 'Resubstitution'],
      // The PDF really has the stray parenthesis in this heading.
      [2, 'K-fold cross-validation)'],
      [2, 'Bootstrap cross-validation'],
      [2, 'Hold-out cross-validation'],
      [1, 'Results'],
      [1, 'Conclusion'],
      [1, 'Acknowledgements'],
      [1, 'References'],
    ],
  },
  'lemasson-alexandre-augment': {
    title:
      '[Re] How Attention Can Create Synaptic Tags for the Learning of Working Memories in Sequential Tasks',
    authors: ['Erwan Le Masson', 'Frédéric Alexandre'],
    sections: [
      [1, 'Introduction'],
      [1, 'Methods'],
      [2, 'Model'],
      [2, 'Tasks'],
      [1, 'Results'],
      [2, 'Implementations Comparison'],
      [2, 'Replicated Data'],
      [1, 'Conclusion'],
      [1, 'References'],
    ],
  },
} as const;

for (const [name, want] of Object.entries(EXPECTED)) {
  test(`fixture ${name}: title, authors and the paper's real section titles`, {
    skip: noFixtures,
  }, async () => {
    const paper = await loadPaper(join(papersDir, name, 'paper.pdf'), { cacheDir: tmpdir() });
    assert.equal(paper.title, want.title);
    assert.deepEqual(paper.authors, want.authors);
    assert.deepEqual(
      paper.sections.map((s) => [s.level, s.title]),
      want.sections.map(([l, t]) => [l, t]),
    );
    for (const s of paper.sections) {
      assert.ok(s.start < s.end && s.end <= paper.markdown.length);
      assert.ok(paper.markdown.slice(s.start).startsWith(`${'#'.repeat(s.level + 1)} ${s.title}`));
    }
    // Running headers, footers and margin notes are gone; references are kept.
    assert.doesNotMatch(paper.markdown, /ReScience C 4\.1 \(#\)|rescience\.github\.io \d|Name Surname/);
    assert.match(readSection(paper, 'references')!, /^## References\n\n(1\.|\[1\]) /);
  });
}

test('fixture text quality: de-hyphenation, lists, table, captions, search', {
  skip: noFixtures,
}, async () => {
  const a = await loadPaper(join(papersDir, 'etherington-lieske-resampling', 'paper.pdf'), {
    cacheDir: tmpdir(),
  });
  // "inde-/pendent" is a line-break hyphen; "species-/environment" is a real compound used elsewhere.
  assert.match(a.markdown, /fully independent data/);
  assert.match(a.markdown, /Using a species-environment relationship model/);
  assert.match(a.markdown, /\*\*Figure 1\.\*\* Smoothed distributions/);
  assert.match(a.markdown, /Erri = .*\(2\)/);
  const hits = searchPaper(a, 'bootstrap most precise estimate');
  assert.ok(hits.length > 0);
  assert.ok(['results', 'conclusion'].includes(hits[0]!.sectionId), JSON.stringify(hits[0]));

  const b = await loadPaper(join(papersDir, 'lemasson-alexandre-augment', 'paper.pdf'), {
    cacheDir: tmpdir(),
  });
  assert.match(b.markdown, /^1\. Begin: blank screen for one step\.\n2\. Fixation:/m);
  assert.match(b.markdown, /\| Saccade with shaping \| 99\.45% \| 90\.55% \| 4100 trials \| 3970 trials \|/);
  assert.match(b.markdown, /\*\*Table 1:\*\* Results/);
  assert.match(b.markdown, /https:\/\/github\.com\/JRombouts\/augment/);
  const reader = createPaperReader(b);
  assert.match(reader.index(), /\[implementations-comparison\] Implementations Comparison/);
  assert.match(reader.section('Replicated Data')!, /10,000 networks/);
  assert.match(reader.search('ANNarchy simulator'), /^1\. \[model\] Model/);
  assert.equal(reader.section('does-not-exist'), undefined);
});

test('Markdown input is taken as is, headings indexed, front matter read', { skip: noFixtures }, async () => {
  const f = join(papersDir, 'lemasson-alexandre-augment', 'paper.md');
  const paper = await loadPaper(f, { cacheDir: tmpdir() });
  assert.equal(paper.markdown, (await readFile(f, 'utf8')).replace(/\r\n/g, '\n'));
  assert.equal(
    paper.title,
    'How Attention Can Create Synaptic Tags for the Learning of Working Memories in Sequential Tasks',
  );
  // The same authors and sections as the PDF of the same paper.
  const pdf = EXPECTED['lemasson-alexandre-augment'];
  assert.deepEqual(paper.authors, pdf.authors);
  assert.deepEqual(
    paper.sections.map((s) => [s.level, s.title]),
    pdf.sections.map(([l, t]) => [l, t]),
  );
});

test('Markdown: setext headings, fenced code ignored, front matter closing line is not a heading', () => {
  const md = `---
title: Setext Paper
author: [A]
---
Setext Paper
============

Intro text.

Method
------

\`\`\`
# not a heading
\`\`\`

## 2.1 Details

text
`;
  const p = paperFromMarkdown(md, 'x.md');
  assert.equal(p.title, 'Setext Paper');
  assert.deepEqual(
    p.sections.map((s) => [s.id, s.title, s.level]),
    [
      ['method', 'Method', 1],
      ['2.1', '2.1 Details', 1],
    ],
  );
  assert.ok(md.slice(p.sections[0]!.start).startsWith('Method\n------'));
});
