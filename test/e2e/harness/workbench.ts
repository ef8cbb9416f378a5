/**
 * Loads the VS Code workbench of a running code-server in Debian chromium (playwright-core, no
 * browser download), runs the extension's mocha suite in the extension host, answers the suite's
 * driver requests (screenshots, webview clicks) and returns the suite's exit code.
 */
import { createWriteStream, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Frame, type Page } from 'playwright-core';
import { type DriverReply, type DriverRequest, OUTPUT_PREFIX, REQUEST_PREFIX } from './driver-protocol';

export const chromiumPath = process.env.KLONG_CHROMIUM ?? '/usr/bin/chromium';

export interface WorkbenchRun {
  url: string;
  workspace: string;
  /** One or more extension folders loaded in development mode. */
  extensionPath: string | string[];
  testsPath: string;
  replyDir: string;
  artifacts: string;
  env: Record<string, string>;
  /** Lines of mocha output and extension-host logs. */
  onOutput: (line: string) => void;
  timeoutMs: number;
  /** Ends the run early with this exit code (the test killed the server under it). */
  abort?: Promise<number>;
}

export interface WorkbenchResult {
  exitCode: number;
  offLoopback: string[];
  pageErrors: string[];
}

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-breakpad',
  '--disable-dev-shm-usage',
];

function isLoopback(url: string): boolean {
  if (/^(data|blob|about|chrome|chrome-extension|vscode-webview|vscode-resource):/.test(url)) return true;
  try {
    const h = new URL(url).hostname;
    return h === '127.0.0.1' || h === 'localhost' || h === '[::1]' || h.endsWith('.localhost');
  } catch {
    return false;
  }
}

/** The webview whose document holds `[data-klong-view=name]`, or the page itself for `workbench`. */
async function findFrame(page: Page, view: string, timeoutMs: number): Promise<Frame> {
  if (view === 'workbench') return page.mainFrame();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      try {
        if (await frame.$(`[data-klong-view="${view}"]`)) return frame;
      } catch {
        // detached or navigating frame
      }
    }
    if (Date.now() > deadline) throw new Error(`no webview with [data-klong-view="${view}"] on the page`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function perform(page: Page, req: DriverRequest, artifacts: string): Promise<unknown> {
  const t = 20_000;
  switch (req.op) {
    case 'screenshot': {
      mkdirSync(artifacts, { recursive: true });
      const file = join(artifacts, `${req.name.replace(/[^\w.-]+/g, '_')}.png`);
      const tmp = `${file}.tmp.png`;
      if (req.view && req.view !== 'workbench') {
        const frame = await findFrame(page, req.view, t);
        const el = await frame.frameElement();
        await el.screenshot({ path: tmp });
      } else {
        await page.screenshot({ path: tmp });
      }
      renameSync(tmp, file);
      return file;
    }
    case 'click':
      await (await findFrame(page, req.view, t))
        .locator(req.selector)
        .first()
        .click({ timeout: t, ...(req.button ? { button: req.button } : {}) });
      return undefined;
    case 'press':
      await (await findFrame(page, req.view, t)).locator(req.selector).first().press(req.key, { timeout: t });
      return undefined;
    case 'fill':
      await (await findFrame(page, req.view, t))
        .locator(req.selector)
        .first()
        .fill(req.value, { timeout: t });
      return undefined;
    case 'text':
      // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText is what a user sees.
      return (await findFrame(page, req.view, t)).locator(req.selector).first().innerText({ timeout: t });
    case 'count':
      return (await findFrame(page, req.view, t)).locator(req.selector).count();
    case 'waitFor': {
      const frame = await findFrame(page, req.view, 40_000);
      let loc = frame.locator(req.selector);
      if (req.text) loc = loc.filter({ hasText: req.text });
      await loc.first().waitFor({ state: req.state ?? 'visible', timeout: 40_000 });
      return undefined;
    }
    case 'evaluate':
      return (await findFrame(page, req.view, t)).evaluate(req.expression);
  }
}

export async function runWorkbench(run: WorkbenchRun): Promise<WorkbenchResult> {
  const browser: Browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: CHROMIUM_ARGS,
    env: { ...process.env, ...run.env },
  });
  const offLoopback: string[] = [];
  const pageErrors: string[] = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    // Block and record everything off loopback (service workers stay allowed: webviews need them).
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (isLoopback(url)) return route.continue();
      // A webview resource (its own files, served by the webview's service worker) reaches here only
      // when a webview loads before that worker controls it, as during a window reload: not network.
      if (new URL(url).hostname.endsWith('.vscode-resource.vscode-cdn.net')) {
        run.onOutput(`[e2e] webview resource before its service worker: ${url}`);
        return route.abort('blockedbyclient');
      }
      offLoopback.push(url);
      run.onOutput(`[e2e] blocked request off loopback: ${url}`);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();

    let finish: (code: number) => void = () => {};
    const exited = new Promise<number>((resolve) => {
      finish = resolve;
    });
    await page.exposeFunction('codeAutomationExit', (code: number) => finish(code));

    const queue: Promise<void>[] = [];
    const consoleLog = createWriteStream(join(run.replyDir, '..', 'browser-console.log'));
    page.on('console', (msg) => {
      const text = msg.text();
      consoleLog.write(`[${msg.type()}] ${text}\n`);
      const at = text.indexOf(REQUEST_PREFIX);
      if (at >= 0) {
        const json = text.slice(at + REQUEST_PREFIX.length).trim();
        queue.push(answer(page, json, run));
        return;
      }
      const out = text.indexOf(OUTPUT_PREFIX);
      if (out >= 0) run.onOutput(text.slice(out + OUTPUT_PREFIX.length));
      else if (msg.type() === 'error') pageErrors.push(text);
    });
    page.on('pageerror', (err) => pageErrors.push(String(err)));

    const authority = new URL(run.url).host;
    const payload = [
      ...[run.extensionPath]
        .flat()
        .map((p) => ['extensionDevelopmentPath', `vscode-remote://${authority}${p}`]),
      ['extensionTestsPath', `vscode-remote://${authority}${run.testsPath}`],
    ];
    const target = `${run.url}/?folder=${encodeURIComponent(run.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    await page.goto(target);

    const timeout = new Promise<number>((resolve) =>
      setTimeout(() => {
        run.onOutput(`[e2e] the suite did not finish within ${run.timeoutMs / 1000} s`);
        resolve(124);
      }, run.timeoutMs).unref(),
    );
    const code = await Promise.race([exited, timeout, ...(run.abort ? [run.abort] : [])]);
    if (code !== 0) {
      try {
        mkdirSync(run.artifacts, { recursive: true });
        await page.screenshot({ path: join(run.artifacts, 'failure-workbench.png') });
      } catch {
        // the page may be gone
      }
    }
    await Promise.allSettled(queue);
    return { exitCode: code, offLoopback, pageErrors };
  } finally {
    await browser.close();
  }
}

async function answer(page: Page, json: string, run: WorkbenchRun): Promise<void> {
  let reply: DriverReply;
  let id = -1;
  try {
    const req = JSON.parse(json) as DriverRequest & { id: number };
    id = req.id;
    const value = await perform(page, req, run.artifacts);
    reply = value === undefined ? { id, ok: true } : { id, ok: true, value };
  } catch (err) {
    reply = { id, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  if (id < 0) {
    run.onOutput(`[e2e] unreadable driver request: ${json}`);
    return;
  }
  const file = join(run.replyDir, `${id}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(reply));
  renameSync(`${file}.tmp`, file);
}
