/**
 * Paper pipeline costs against baselines measured in the same run:
 * - PDF → Markdown with layout analysis vs pdf.js plain text extraction (every page's text items joined) of the same file;
 * - grading a 24-leaf rubric with 8 judge calls in flight vs one at a time (model server answers in 40 ms);
 * - regrading from the judge cache vs the first grading.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenAIModelClient } from '../src/llm/openai-client';
import { gradeSubmission, paperFromMarkdown, paperFromPdf, parseRubric, type RubricNode } from '../src/paper';
import { loadPdfJs } from '../src/paper/pdf/pdfjs-node';
import { reply, startModelServer } from '../test/support/model-server';
import { type BenchRow, median, row } from './types';

const pdfPath = join(
  __dirname,
  '..',
  '..',
  'shared',
  'fixtures',
  'papers',
  'etherington-lieske-resampling',
  'paper.pdf',
);

async function time(fn: () => Promise<unknown>, runs: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    await fn();
    xs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(xs);
}

function rubric(leaves: number): RubricNode {
  const groups = Array.from({ length: 4 }, (_, g) => ({
    id: `g${g}`,
    requirements: `Group ${g} of the reproduction.`,
    weight: g + 1,
    task_category: null,
    finegrained_task_category: null,
    sub_tasks: Array.from({ length: leaves / 4 }, (_, i) => ({
      id: `g${g}-l${i}`,
      requirements: `Requirement ${i} of group ${g}: the estimator number ${i} is implemented.`,
      weight: 1,
      sub_tasks: [],
      task_category: 'Code Development' as const,
      finegrained_task_category: null,
    })),
  }));
  return parseRubric({
    id: 'root',
    requirements: 'Root.',
    weight: 1,
    task_category: null,
    finegrained_task_category: null,
    sub_tasks: groups,
  });
}

export default async (): Promise<BenchRow[]> => {
  const rows: BenchRow[] = [];
  if (existsSync(pdfPath)) {
    const bytes = new Uint8Array(readFileSync(pdfPath));
    await paperFromPdf(bytes, pdfPath); // warm up pdf.js
    const ours = await time(() => paperFromPdf(bytes, pdfPath), 5);
    const pdfjs = await loadPdfJs();
    const plainText = async () => {
      const pdf = await pdfjs.getDocument({ data: new Uint8Array(bytes), verbosity: 0 }).promise;
      const pages: string[] = [];
      for (let p = 1; p <= pdf.numPages; p++) {
        const content = await (await pdf.getPage(p)).getTextContent();
        pages.push(content.items.map((it) => ('str' in it ? it.str : '')).join(' '));
      }
      await pdf.destroy();
      return pages.join('\n');
    };
    const base = await time(plainText, 5);
    rows.push(
      row('PDF → Markdown + index (6-page paper) vs pdf.js plain text', 'ms', ours, base, { max: 3 }),
    );
  }

  // Every request gets a step that answers after 40 ms (a function step may be async).
  const server = await startModelServer(() => async () => {
    await new Promise((r) => setTimeout(r, 40));
    return reply('{"score": 1, "explanation": "implemented"}');
  });
  try {
    const paper = paperFromMarkdown('# P\n\n## Method\n\nEstimators.\n', 'p.md');
    const client = new OpenAIModelClient({ baseURL: server.url, apiKey: 'k', model: 'm', maxRetries: 0 });
    const r = rubric(24);
    const files = [{ path: 'est.py', content: 'def estimator(): pass\n' }];
    const seq = await time(() => gradeSubmission({ client, paper, rubric: r, files, concurrency: 1 }), 1);
    const cacheDir = mkdtempSync(join(tmpdir(), 'bench-judge-'));
    const par = await time(
      () => gradeSubmission({ client, paper, rubric: r, files, concurrency: 8, cacheDir }),
      1,
    );
    rows.push(row('grading 24 leaves, 8 judge calls in flight vs 1', 'ms', par, seq, { max: 0.35 }));
    const cached = await time(
      () => gradeSubmission({ client, paper, rubric: r, files, concurrency: 8, cacheDir }),
      3,
    );
    rows.push(row('regrading from the judge cache vs first grading', 'ms', cached, par, { max: 0.2 }));
  } finally {
    await server.close();
  }
  return rows;
};
