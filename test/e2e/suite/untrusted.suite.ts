/**
 * An untrusted workspace (runs only under test/e2e/untrusted.test.ts: Workspace Trust on, the folder
 * not trusted): neither Reproduce nor a Resume of one of its sessions starts an agent or an engine;
 * each says why. The engine would run the workspace's devcontainer and its commands.
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { klong } from './api';
import { hasDriver, screenshot, until, view } from './driver';
import { UNTRUSTED_ENV } from './untrusted-env';

/** Processes whose command line names `word` (an engine names its session id). */
function processesNaming(word: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(word);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('untrusted workspace', function () {
  this.timeout(120_000);

  it('starts no agent or engine from Reproduce or Resume, and says why', async function () {
    if (!process.env[UNTRUSTED_ENV.on] || !hasDriver()) return this.skip();
    assert.equal(vscode.workspace.isTrusted, false, 'the folder must not be trusted for this test');
    const ui = await klong();
    const store = ui.sessions!.store;
    const workspace = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const wb = view('workbench');
    const refused = '.notification-toast:has-text("only starts in a trusted workspace")';

    const dir = mkdtempSync(join(tmpdir(), 'klong-e2e-untrusted-'));
    writeFileSync(join(dir, 'paper.md'), '# Untrusted Paper\n\nA method.\n');
    void vscode.commands.executeCommand('klong.reproducePaper', vscode.Uri.file(join(dir, 'paper.md')));
    await wb.waitFor(refused);
    await wb.waitFor(`${refused} .monaco-button`, { text: 'Manage Workspace Trust' });
    await screenshot('untrusted/reproduce-refused');
    assert.deepEqual(
      store.list().filter((s) => s.workspace === workspace),
      [],
      'no session was created',
    );
    await vscode.commands.executeCommand('notifications.clearAll');
    await wb.waitFor(refused, { state: 'hidden' });

    // A session of this workspace that was interrupted (e.g. started before trust was taken back).
    const id = `e2e-untrusted-${Date.now().toString(36)}`;
    const live = store.create({
      sessionId: id,
      paperTitle: 'Untrusted Paper',
      paperPath: join(dir, 'paper.md'),
      workspace,
      model: 'scripted',
      budgetMs: 3_600_000,
    });
    live.append({ type: 'status', status: 'running' });
    live.close();
    try {
      void vscode.commands.executeCommand('klong.resumeSession', id);
      await wb.waitFor(refused);
      assert.equal(existsSync(join(store.dirOf(id), 'engine.log')), false, 'no engine was started');
      assert.deepEqual(processesNaming(id), []);
      assert.equal(ui.reproduce?.running, undefined);
      assert.equal(ui.reproduce?.following, undefined);
      await until('the session still resumable', () => store.get(id)?.status === 'running');
    } finally {
      await vscode.commands.executeCommand('notifications.clearAll');
      store.delete(id);
    }
  });
});
