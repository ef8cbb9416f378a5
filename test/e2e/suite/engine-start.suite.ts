/**
 * An engine that cannot start (no Docker at the configured host) shows what it said, from the tail
 * of its engine.log, with Retry; Retry starts it again (as a resume of the same session), and no
 * engine process is left behind either time. An engine whose key the endpoint rejects (a real
 * container, network none, the scripted model on 127.0.0.1 answering 401) says so with Retry and
 * Settings, not as an interrupted session, and exits.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { reply, startModelServer } from '../../support/model-server';
import { klong } from './api';
import { hasDriver, screenshot, until, view } from './driver';

const TITLE = 'E2E Engine Start Paper';
const NO_DOCKER = 'unix:///nonexistent/klong-e2e/docker.sock';

/** Pids of the processes whose command line names the session (its engine: --session-id/--resume ID). */
function enginesOf(id: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(id)) pids.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

describe('engine that fails to start', function () {
  this.timeout(180_000);
  const c = () => vscode.workspace.getConfiguration('klong');
  const g = vscode.ConfigurationTarget.Global;
  const key = process.env.KLONG_API_KEY;
  let paperDir = '';

  before(async function () {
    if (!hasDriver() || process.platform !== 'linux') this.skip();
    paperDir = mkdtempSync(join(tmpdir(), 'klong-e2e-start-'));
    writeFileSync(join(paperDir, 'paper.md'), `# ${TITLE}\n\nA method and an experiment.\n`);
    process.env.KLONG_API_KEY = 'sk-e2e-not-a-secret'; // read at start, no prompt in the way
    await c().update('docker.host', NO_DOCKER, g);
    await c().update('model.baseUrl', 'http://127.0.0.1:9/v1', g);
    await c().update('model.name', 'scripted', g);
    await c().update('docker.network', 'none', g);
    await vscode.commands.executeCommand('notifications.clearAll'); // earlier suites' toasts
  });

  after(async () => {
    if (key === undefined) delete process.env.KLONG_API_KEY;
    else process.env.KLONG_API_KEY = key;
    for (const k of ['docker.host', 'model.baseUrl', 'model.name', 'docker.network'])
      await c().update(k, undefined, g);
    await vscode.commands.executeCommand('notifications.clearAll');
    if (paperDir) rmSync(paperDir, { recursive: true, force: true });
  });

  it('shows the engine’s own error from engine.log with Retry; Retry starts it again; no engine is left', async () => {
    const ui = await klong();
    const store = ui.sessions!.store;
    const workspace = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const mine = () => store.list().find((s) => s.paperTitle === TITLE && s.workspace === workspace);
    const wb = view('workbench');
    const toast = '.notification-toast:has-text("The session did not start")';
    try {
      void vscode.commands.executeCommand(
        'klong.reproducePaper',
        vscode.Uri.file(join(paperDir, 'paper.md')),
      );
      // What the engine said, not just that it exited.
      await wb.waitFor(toast, { text: 'The Docker engine is not running' });
      await wb.waitFor(`${toast} .monaco-button`, { text: 'Retry' });
      await screenshot('engine-start-failed');
      const entry = (await until('the session folder', mine))!;
      const log = join(entry.dir, 'engine.log');
      assert.match(readFileSync(log, 'utf8'), /no socket at unix:\/\/\/nonexistent\/klong-e2e\/docker\.sock/);
      assert.equal(ui.reproduce?.following, undefined);
      assert.equal(ui.reproduce?.running, undefined);
      await until('no engine process of the session', () => enginesOf(entry.id).length === 0);
      const size = readFileSync(log, 'utf8').length;

      // Retry: the same session again (a resume), failing the same way, with a notification again.
      await wb.click(`${toast} .monaco-button:has-text("Retry")`);
      await until('the retried engine’s output', () => readFileSync(log, 'utf8').length > size, 60_000);
      await wb.waitFor(toast, { text: 'The Docker engine is not running' });
      assert.match(readFileSync(log, 'utf8').slice(size), /no socket at/);
      assert.equal(
        store.list().filter((s) => s.paperTitle === TITLE).length,
        1,
        'Resume and Retry start the same session, not new ones',
      );
      await until('no engine process of the session', () => enginesOf(entry.id).length === 0);
    } finally {
      const e = mine();
      if (e && existsSync(e.dir)) store.delete(e.id);
    }
  });

  it('a key the endpoint rejects: the engine stops the session, the window says why with Retry', async function () {
    const image = process.env.KLONG_CLI_TEST_IMAGE ?? 'klong/python-min:bookworm';
    if (spawnSync('docker', ['image', 'inspect', image]).status !== 0) {
      if (process.env.KLONG_REQUIRE_DOCKER === '1') assert.fail(`Docker image ${image} is missing`);
      return this.skip();
    }
    const ui = await klong();
    const store = ui.sessions!.store;
    const workspace = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const mine = () => store.list().find((s) => s.paperTitle === TITLE && s.workspace === workspace);
    const server = await startModelServer(() => reply('never'), { apiKey: 'sk-e2e-right' });
    const label = process.env.KLONG_TEST_LABEL;
    process.env.KLONG_TEST_LABEL = 'klong.test.e2e-start';
    process.env.KLONG_API_KEY = 'sk-e2e-wrong';
    const wb = view('workbench');
    const toast = '.notification-toast:has-text("Session stopped")';
    try {
      await c().update('docker.host', undefined, g);
      await c().update('model.baseUrl', server.url, g);
      await c().update('docker.defaultImage', image, g);
      await vscode.commands.executeCommand('notifications.clearAll');
      void vscode.commands.executeCommand(
        'klong.reproducePaper',
        vscode.Uri.file(join(paperDir, 'paper.md')),
      );
      const link = (await until('the window to follow the engine', () => ui.reproduce?.following, 120_000))!;
      const { pid } = await link.status();
      await wb.waitFor(toast, { text: 'The endpoint rejected the API key (401)' });
      for (const label of ['Retry', 'Settings']) await wb.waitFor(`${toast} .monaco-button`, { text: label });
      await screenshot('engine-bad-key');
      assert.ok(
        server.authHeaders.length > 0 && server.authHeaders.every((h) => h === 'Bearer sk-e2e-wrong'),
      );
      await until('the engine to exit', () => enginesOf(link.sessionId).length === 0, 60_000);
      assert.ok(!enginesOf(link.sessionId).includes(pid));
      assert.equal(ui.reproduce?.following, undefined);
    } finally {
      await server.close();
      if (label === undefined) delete process.env.KLONG_TEST_LABEL;
      else process.env.KLONG_TEST_LABEL = label;
      await c().update('docker.defaultImage', undefined, g);
      spawnSync('sh', [
        '-c',
        'docker rm -f $(docker ps -aq --filter label=klong.test.e2e-start=1) 2>/dev/null',
      ]);
      const e = mine();
      if (e && existsSync(e.dir)) store.delete(e.id);
    }
  });
});
