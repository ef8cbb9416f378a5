/**
 * Suite-side helpers: ask the Playwright driver to look at or act on the page (screenshots, clicks
 * inside webviews). Only usable when the suite runs under test/e2e/vscode.test.ts (code-server);
 * under @vscode/test-electron there is no driver and `hasDriver()` is false.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  type DriverReply,
  type DriverRequest,
  ENV,
  REQUEST_PREFIX,
  type ViewName,
} from '../harness/driver-protocol';

let nextId = 1;

export function hasDriver(): boolean {
  return Boolean(process.env[ENV.replyDir]);
}

/** Folder of the repository (for fixtures under ../shared). */
export function repoRoot(): string {
  return process.env[ENV.repoRoot] ?? join(__dirname, '..', '..');
}

export async function request(req: DriverRequest, timeoutMs = 30_000): Promise<unknown> {
  const dir = process.env[ENV.replyDir];
  if (!dir) throw new Error('no Playwright driver: run this suite through test/e2e/vscode.test.ts');
  const id = nextId++;
  console.log(`${REQUEST_PREFIX} ${JSON.stringify({ id, ...req })}`);
  const file = join(dir, `${id}.json`);
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`driver did not answer ${req.op} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const reply = JSON.parse(readFileSync(file, 'utf8')) as DriverReply;
  rmSync(file, { force: true });
  if (!reply.ok) throw new Error(`driver ${req.op} failed: ${reply.error}`);
  return reply.value;
}

/** Saves a PNG of the whole workbench (or of one webview) to test-artifacts/<name>.png. */
export async function screenshot(name: string, view?: ViewName): Promise<string> {
  return (await request({ op: 'screenshot', name, ...(view ? { view } : {}) })) as string;
}

/** Operations inside a webview (found by its `[data-klong-view=name]` element) or the workbench. */
export function view(name: ViewName) {
  return {
    click: (selector: string, button?: 'left' | 'right') =>
      request({ op: 'click', view: name, selector, ...(button ? { button } : {}) }),
    press: (selector: string, key: string) => request({ op: 'press', view: name, selector, key }),
    fill: (selector: string, value: string) => request({ op: 'fill', view: name, selector, value }),
    text: async (selector: string) => (await request({ op: 'text', view: name, selector })) as string,
    count: async (selector: string) => (await request({ op: 'count', view: name, selector })) as number,
    /** Waits (in the browser) until the selector matches, optionally containing `text`. */
    waitFor: (selector: string, opts: { state?: 'attached' | 'visible' | 'hidden'; text?: string } = {}) =>
      request({ op: 'waitFor', view: name, selector, ...opts }, 45_000),
    /** Evaluates a JS expression in the view's document; the result must be JSON-serialisable. */
    evaluate: <T = unknown>(expression: string) =>
      request({ op: 'evaluate', view: name, expression }) as Promise<T>,
  };
}

/** Polls `check` until it returns a truthy value (for state on the extension side). */
export async function until<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
