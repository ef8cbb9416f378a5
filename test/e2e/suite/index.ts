/**
 * Entry of the mocha suite inside the VS Code extension host (code-server or Electron).
 * Built by test/e2e/build-suite.ts to out/test/index.js; each test/e2e/suite/*.suite.ts becomes
 * out/test/<name>.suite.js next to it and is loaded here. KLONG_E2E_GREP filters tests by title.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';
import { ENV, OUTPUT_PREFIX } from '../harness/driver-protocol';
import { hasDriver, screenshot } from './driver';

export function run(): Promise<void> {
  if (hasDriver()) {
    // The host forwards console lines to the page one by one: format them here and mark them as ours.
    const base = Mocha.reporters.Base as unknown as { consoleLog: (...args: unknown[]) => void };
    base.consoleLog = (...args) => {
      for (const line of format(...args).split('\n')) console.log(`${OUTPUT_PREFIX}${line}`);
    };
  }
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  const grep = process.env[ENV.grep];
  if (grep) mocha.grep(grep);
  // A failed test leaves a screenshot of the workbench: test-artifacts/FAILED-<title>.png.
  mocha.rootHooks({
    async afterEach(this: Mocha.Context) {
      const t = this.currentTest;
      if (t?.state === 'failed' && hasDriver())
        await screenshot(`FAILED-${t.fullTitle()}`.slice(0, 120)).catch(() => undefined);
    },
  });
  for (const f of readdirSync(__dirname).sort())
    if (f.endsWith('.suite.js')) mocha.addFile(join(__dirname, f));
  return new Promise((resolve, reject) => {
    try {
      mocha.run((failures) =>
        failures > 0 ? reject(new Error(`${failures} e2e test(s) failed`)) : resolve(),
      );
    } catch (err) {
      reject(err);
    }
  });
}
