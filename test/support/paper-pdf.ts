/** PDFs made by the tests themselves (pdf-lib), so that paper tests run without ../shared fixtures. */
import { PDFDocument, StandardFonts } from 'pdf-lib';

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
