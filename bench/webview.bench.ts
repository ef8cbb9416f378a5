/**
 * Progress view timeline in a real chromium: 100,000 entries against 1,000, with the built
 * dist/webview/progress.js and a real SessionModel answering its page requests (bench/webview-page.ts).
 * Measured: time to open the view at the tail, main-thread work per scroll step (Chrome's own
 * Script + Layout + RecalcStyle durations), and row elements in the DOM. Plus webview bundle sizes.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Page } from 'playwright-core';
import { SessionModel } from '../src/ui/model/session-model';
import { type BenchRow, median, row } from './types';
import { openProgressPage, sessionEvents } from './webview-page';

const root = join(__dirname, '..');
const STEPS = 24;
const STEP_PX = 480;

interface Figures {
  openMs: number;
  workPerStepMs: number;
  wallPerStepMs: number;
  domRows: number;
}

/** Scrolls by one step and resolves when every row in view shows its entry. */
const STEP = `async (dy) => {
  const s = document.querySelector('.tl-scroller');
  const t0 = performance.now();
  s.scrollTop = s.scrollTop + dy;
  await new Promise((resolve) => {
    const check = () => {
      const top = s.scrollTop, bottom = top + s.clientHeight;
      const rows = [...document.querySelectorAll('.tl-row')].filter((r) => r.offsetTop + 24 > top && r.offsetTop < bottom);
      if (rows.length && rows.every((r) => r.querySelector('.tl-title:not(.muted)'))) resolve();
      else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  });
  return performance.now() - t0;
}`;

async function mainThreadMs(page: Page, cdp: import('playwright-core').CDPSession): Promise<number> {
  void page;
  const { metrics } = (await cdp.send('Performance.getMetrics')) as {
    metrics: { name: string; value: number }[];
  };
  const get = (n: string) => metrics.find((m) => m.name === n)?.value ?? 0;
  return (get('ScriptDuration') + get('LayoutDuration') + get('RecalcStyleDuration')) * 1000;
}

async function measure(n: number, browser: import('playwright-core').Browser): Promise<Figures> {
  const model = new SessionModel();
  model.applyAll(sessionEvents(n));
  const t0 = performance.now();
  const p = await openProgressPage(model, browser);
  await p.page.waitForSelector(`.tl-row[data-index="${model.timelineLength - 1}"] .tl-title:not(.muted)`);
  const openMs = performance.now() - t0;
  const cdp = await p.page.context().newCDPSession(p.page);
  await cdp.send('Performance.enable');
  // Start a quarter down (the same for both sizes: the window is away from either end), then scroll.
  await p.page.evaluate(
    `(() => { const s = document.querySelector('.tl-scroller'); s.scrollTop = s.scrollHeight / 4; })()`,
  );
  await p.page.evaluate(`(${STEP})(0)`);
  const before = await mainThreadMs(p.page, cdp);
  const walls: number[] = [];
  for (let i = 0; i < STEPS; i++) walls.push((await p.page.evaluate(`(${STEP})(${STEP_PX})`)) as number);
  const work = (await mainThreadMs(p.page, cdp)) - before;
  const domRows = (await p.page.evaluate(`document.querySelectorAll('.tl-row').length`)) as number;
  await p.close();
  return { openMs, workPerStepMs: work / STEPS, wallPerStepMs: median(walls), domRows };
}

function size(rel: string): number {
  return statSync(join(root, rel)).size;
}

export default async function bench(): Promise<BenchRow[]> {
  const browser = await chromium.launch({
    executablePath: process.env.KLONG_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const small: Figures[] = [];
  const big: Figures[] = [];
  try {
    await measure(1000, browser); // warm-up
    for (let i = 0; i < 3; i++) {
      small.push(await measure(1000, browser));
      big.push(await measure(100_000, browser));
    }
  } finally {
    await browser.close();
  }
  const med = (xs: Figures[], k: keyof Figures) => median(xs.map((x) => x[k]));
  const KB = 1024;
  const gz = (rel: string) => gzipSync(readFileSync(join(root, rel))).length / KB;
  return [
    row(
      'timeline: open at the tail, 100k vs 1k entries',
      'ms',
      med(big, 'openMs'),
      med(small, 'openMs'),
      { max: 1.5 },
      'page load + first rows; baseline: 1,000 entries',
    ),
    row(
      'timeline: main-thread work per scroll step, 100k vs 1k',
      'ms',
      med(big, 'workPerStepMs'),
      med(small, 'workPerStepMs'),
      { max: 1.5 },
      `Chrome Script+Layout+Style per ${STEP_PX}px step incl. page fetches; wall per step ${med(big, 'wallPerStepMs').toFixed(1)} vs ${med(small, 'wallPerStepMs').toFixed(1)} ms`,
    ),
    row(
      'timeline: row elements in the DOM, 100k vs 1k',
      'rows',
      med(big, 'domRows'),
      med(small, 'domRows'),
      { max: 1.2 },
      'windowing keeps the DOM independent of the total',
    ),
    row(
      'progress view bundle (gzip)',
      'KB',
      gz('dist/webview/progress.js'),
      100,
      { max: 1 },
      `raw ${(size('dist/webview/progress.js') / KB).toFixed(0)} KB; budget 100 KB gzip`,
    ),
    row(
      'paper panel bundle (gzip)',
      'KB',
      gz('dist/webview/paper.js'),
      100,
      { max: 1 },
      `raw ${(size('dist/webview/paper.js') / KB).toFixed(0)} KB; pdf.js loads separately`,
    ),
    row(
      'pdf.js shipped for the paper panel (gzip)',
      'KB',
      gz('dist/webview/pdfjs/pdf.min.mjs') + gz('dist/webview/pdfjs/pdf.worker.min.mjs'),
      600,
      { max: 1 },
      'pdf.min.mjs + pdf.worker.min.mjs; budget 600 KB gzip',
    ),
  ];
}
