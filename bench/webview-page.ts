/**
 * The built progress view (dist/webview/progress.js) in a real chromium page, with a stand-in for
 * the extension: acquireVsCodeApi() posts to this Node process, which answers from a real
 * SessionModel the way ProgressViewProvider does (full state on ready, timeline pages on request).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { AgentEvent, AgentEventBody } from '../src/events/events';
import { type FromProgress, fromProgressSchema, type ToProgress } from '../src/protocol/progress';
import type { SessionModel } from '../src/ui/model/session-model';

const root = join(__dirname, '..');
const ORIGIN = 'http://klong.bench';

/** The page's window, typed here because the Node tsconfig has no DOM lib. */
interface BrowserWindow {
  postMessage(message: unknown, targetOrigin: string): void;
}

/** A session with `n` timeline rows (a tool call with its result is one row; a model answer another). */
export function sessionEvents(n: number): AgentEvent[] {
  const out: AgentEvent[] = [];
  let seq = 0;
  let ts = Date.UTC(2026, 0, 1, 9);
  const push = (b: AgentEventBody) => {
    ts += 500;
    out.push({ ...b, seq: seq++, ts } as AgentEvent);
  };
  push({
    type: 'session_started',
    sessionId: 'b',
    paperTitle: 'Bench paper',
    paperPath: '/p.pdf',
    workspace: '/w',
    model: 'm',
    budgetMs: 12 * 3600_000,
  });
  push({ type: 'status', status: 'running' });
  for (let i = 0, rows = 2; rows < n; i++, rows++) {
    if (i % 2 === 0) {
      push({
        type: 'tool_call',
        step: i,
        callId: `c${i}`,
        name: 'bash',
        args: JSON.stringify({ command: `python train.py --seed ${i}` }),
      });
      push({
        type: 'tool_result',
        step: i,
        callId: `c${i}`,
        name: 'bash',
        ok: i % 7 !== 0,
        output: `epoch ${i} loss ${(1 / (i + 1)).toFixed(4)}`,
        durationMs: 1200,
      });
    } else {
      push({
        type: 'model_response',
        step: i,
        message: { role: 'assistant', content: `Step ${i}: the loss went down.` },
        usage: { promptTokens: 1000, cachedTokens: 800, completionTokens: 50 },
        costUsd: 0.001,
      });
    }
  }
  return out;
}

export interface ProgressPage {
  page: Page;
  model: SessionModel;
  /** Messages the view sent, in order. */
  received: FromProgress[];
  /** Sends the model's whole state again (after changing the model). */
  push(): Promise<void>;
  close(): Promise<void>;
}

export async function openProgressPage(model: SessionModel, browser?: Browser): Promise<ProgressPage> {
  const own = !browser;
  const b =
    browser ??
    (await chromium.launch({
      executablePath: process.env.KLONG_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    }));
  const page = await b.newPage({ viewport: { width: 360, height: 900 } });
  const received: FromProgress[] = [];
  const post = (msg: ToProgress) =>
    page.evaluate((m) => (globalThis as unknown as BrowserWindow).postMessage(m, '*'), msg);
  await page.exposeFunction('__toExtension', async (raw: unknown) => {
    const parsed = fromProgressSchema.safeParse(raw);
    if (!parsed.success) return;
    const msg = parsed.data;
    received.push(msg);
    if (msg.type === 'ready') await post({ type: 'state', full: true, state: model.snapshot });
    else if (msg.type === 'timeline/range')
      await post({
        type: 'timeline/entries',
        total: model.timelineLength,
        entries: model.timeline(msg.start, msg.end),
      });
    else if (msg.type === 'timeline/detail')
      await post({ type: 'timeline/detail', index: msg.index, sections: await model.detail(msg.index) });
  });
  await page.route(`${ORIGIN}/**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === '/progress.js')
      return route.fulfill({
        contentType: 'text/javascript',
        body: readFileSync(join(root, 'dist/webview/progress.js')),
      });
    return route.fulfill({
      contentType: 'text/html',
      body: `<!DOCTYPE html><html><head><meta charset="utf-8"><style>
        :root { --vscode-foreground:#ccc; --vscode-sideBar-background:#252526; --vscode-font-family:sans-serif;
        --vscode-font-size:13px; --vscode-button-background:#0e639c; --vscode-button-foreground:#fff;
        --vscode-descriptionForeground:#999; --vscode-progressBar-background:#0e70c0; }
        body { background:#252526; }</style>
        <script>let s; window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__toExtension(m),
        getState: () => s, setState: (v) => { s = v; } });</script></head>
        <body><div id="app" data-klong-view="progress"></div><script src="/progress.js"></script></body></html>`,
    });
  });
  await page.goto(`${ORIGIN}/`);
  return {
    page,
    model,
    received,
    push: async () => {
      await post({ type: 'state', full: true, state: model.snapshot });
    },
    close: async () => {
      await page.close();
      if (own) await b.close();
    },
  };
}
