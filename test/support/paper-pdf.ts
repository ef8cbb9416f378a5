/** PDFs made by the tests themselves (pdf-lib), so that paper tests run without ../shared fixtures. */
import {
  PDFDocument,
  PDFHexString,
  PDFName,
  type PDFPage,
  type PDFRef,
  PDFString,
  rgb,
  StandardFonts,
} from 'pdf-lib';

export const BODY =
  'We study a small experiment that runs on a laptop in a few seconds and reports its error rate over many random datasets with the same settings.';

/** A two-page paper: title 22 pt, author line, numbered headings 14/12 pt, 10 pt body, a hyphenated word. */
export async function makePaper(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  let page = doc.addPage([595, 842]);
  let y = 780;
  const put = (text: string, size: number, f = font, x = 72) => {
    if (y < 80) {
      page = doc.addPage([595, 842]);
      y = 780;
    }
    page.drawText(text, { x, y, size, font: f });
    y -= size * 1.25;
  };
  const para = (n: number) => {
    for (let i = 0; i < n; i++) put(BODY.slice(0, 95), 10);
    y -= 8;
  };
  put('Tiny Reproducible Experiments', 22, bold);
  y -= 6;
  put('Ada Lovelace and Alan Turing', 11);
  y -= 14;
  put('Abstract', 12, bold);
  put('We show that a tiny experiment is enough to check a claim about resampling and error rates.', 10);
  y -= 12;
  put('1 Introduction', 14, bold);
  para(4);
  put('The central experi-', 10);
  put('ment of this paper is simple and is repeated one thousand times with fresh seeds.', 10);
  y -= 12;
  put('2 Method', 14, bold);
  para(5);
  put('2.1 Datasets', 12, bold);
  para(6);
  put('Table 1: Results of the bootstrap estimator.', 9);
  y -= 10;
  put('3 Results', 14, bold);
  para(8);
  put('References', 14, bold);
  put('[1] D. Verbyla. Resampling methods. Environmental Management, 1989.', 9);
  return doc.save({ useObjectStreams: false });
}

export interface LinkedPaper {
  bytes: Uint8Array;
  /** Titles of the outline entries in order (depth first), with their depth (1 = top). */
  outline: { title: string; level: number; page: number }[];
}

/**
 * A three-page paper with what readers click: on page 1 a web link (a /Link annotation with a /URI
 * action to `url`) over "Code: <url>" and an internal link (a /Link with a /Dest) over "See Section 3",
 * which goes to page 3; and a document outline (/Outlines, with a nested entry) to each section.
 */
export async function makeLinkedPaper(url: string): Promise<LinkedPaper> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const headings = ['1 Introduction', '2 Method', '3 Results'];
  const pages = headings.map((title, i) => {
    const page = doc.addPage([595, 842]);
    page.drawText(title, { x: 72, y: 760, size: 16, font: bold });
    for (let l = 0; l < 12; l++) page.drawText(BODY.slice(0, 90), { x: 72, y: 730 - l * 14, size: 10, font });
    if (i === 1) page.drawText('2.1 Datasets', { x: 72, y: 540, size: 13, font: bold });
    return page;
  });
  const ctx = doc.context;
  const first = pages[0]!;
  first.drawText(`Code: ${url}`, { x: 72, y: 520, size: 12, font, color: rgb(0, 0, 0.8) });
  first.drawText('See Section 3 for the results.', { x: 72, y: 490, size: 12, font, color: rgb(0, 0, 0.8) });
  const xyz = (page: PDFPage, top: number) => ctx.obj([page.ref, PDFName.of('XYZ'), null, top, null]);
  const web = ctx.register(
    ctx.obj({
      Type: 'Annot',
      Subtype: 'Link',
      Rect: [70, 515, 72 + font.widthOfTextAtSize(`Code: ${url}`, 12) + 2, 532],
      Border: [0, 0, 0],
      A: { Type: 'Action', S: 'URI', URI: PDFString.of(url) },
    }),
  );
  const internal = ctx.register(
    ctx.obj({
      Type: 'Annot',
      Subtype: 'Link',
      Rect: [70, 485, 72 + font.widthOfTextAtSize('See Section 3 for the results.', 12) + 2, 502],
      Border: [0, 0, 0],
      Dest: xyz(pages[2]!, 842),
    }),
  );
  first.node.set(PDFName.of('Annots'), ctx.obj([web, internal]));

  // Outline: 1, 2 (with child 2.1), 3. Each entry a dictionary linked to its siblings and parent.
  const outline = [
    { title: '1 Introduction', level: 1, page: 1, top: 842 },
    { title: '2 Method', level: 1, page: 2, top: 842 },
    { title: '2.1 Datasets', level: 2, page: 2, top: 560 },
    { title: '3 Results', level: 1, page: 3, top: 842 },
  ];
  const root = ctx.nextRef();
  const refs = outline.map(() => ctx.nextRef());
  const [intro, method, datasets, results] = refs as [PDFRef, PDFRef, PDFRef, PDFRef];
  const entry = (i: number, links: Record<string, PDFRef | number>) =>
    ctx.assign(
      refs[i]!,
      ctx.obj({
        Title: PDFHexString.fromText(outline[i]!.title),
        Dest: xyz(pages[outline[i]!.page - 1]!, outline[i]!.top),
        ...links,
      }),
    );
  entry(0, { Parent: root, Next: method });
  entry(1, { Parent: root, Prev: intro, Next: results, First: datasets, Last: datasets, Count: 1 });
  entry(2, { Parent: method });
  entry(3, { Parent: root, Prev: method });
  ctx.assign(root, ctx.obj({ Type: 'Outlines', First: intro, Last: results, Count: 4 }));
  doc.catalog.set(PDFName.of('Outlines'), root);
  return {
    bytes: await doc.save({ useObjectStreams: false }),
    outline: outline.map(({ title, level, page }) => ({ title, level, page })),
  };
}
