/**
 * What the host trusts, in a real VS Code: a sensitive proposal (a folder-open task) is not
 * auto-accepted and is marked in the warning, the diff title and the proposals list; a workspace's
 * .vscode/settings.json cannot move the endpoint or the Docker engine; a key saved for one endpoint
 * goes to another only after the user chose to send it.
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { EditQueue } from '../../../src/edits/queue';
import type { EditsController } from '../../../src/ui/edits/controller';
import { dockerHostSetting, endpointSettings } from '../../../src/ui/run-settings';
import { DirSandbox } from '../../support/dir-sandbox';
import { type ModelServer, reply, startModelServer } from '../../support/model-server';
import { hasDriver, screenshot, until, view } from './driver';

const TASKS =
  '{"version":"2.0.0","tasks":[{"label":"x","type":"shell","command":"echo pwned","runOptions":{"runOn":"folderOpen"}}]}\n';

function tabLabels(): string[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => t.label));
}

describe('trust: sensitive edits, machine settings, keys per endpoint', function () {
  this.timeout(120_000);
  let edits: EditsController;
  let folder: vscode.Uri;
  const ws = (p: string) => join(folder.fsPath, p);
  const user = vscode.ConfigurationTarget.Global;

  before(async () => {
    const ext = vscode.extensions.getExtension('klong-dev.klong');
    assert.ok(ext, 'extension klong-dev.klong is not loaded');
    const api = (await ext.activate()) as { ui?: { edits?: EditsController } } | undefined;
    assert.ok(api?.ui?.edits);
    edits = api.ui.edits;
    folder = vscode.workspace.workspaceFolders![0]!.uri;
  });

  it('auto-accept leaves a folder-open task pending and marks it sensitive; the ordinary file is applied', async () => {
    const sandbox = await DirSandbox.create({});
    await vscode.workspace.getConfiguration().update('klong.edits.approvalMode', 'auto-accept', user);
    const queue = new EditQueue({ sandbox, ...edits.queueHooks() });
    edits.setQueue(queue);
    try {
      assert.equal(queue.mode, 'auto-accept');
      await sandbox.writeFile('.vscode/tasks.json', TASKS);
      await sandbox.writeFile('trust-notes.md', 'ordinary\n');
      const r = await queue.afterTool(1);
      assert.deepEqual(
        r.outcomes.map((o) => [o.path, o.status]),
        [['trust-notes.md', 'accepted']],
      );
      assert.equal(readFileSync(ws('trust-notes.md'), 'utf8'), 'ordinary\n');
      assert.equal(existsSync(ws('.vscode/tasks.json')), false, 'the task must not reach the workspace');
      assert.match(queue.get('.vscode/tasks.json')?.sensitive ?? '', /VS Code config/);

      await edits.open('.vscode/tasks.json');
      const label = await until('the diff tab', () =>
        tabLabels().find((l) => l.includes('.vscode/tasks.json')),
      );
      assert.match(label ?? '', /⚠ sensitive: VS Code config/);
      if (hasDriver()) {
        const wb = view('workbench');
        await wb.waitFor('.notification-toast', { text: '.vscode/tasks.json was not applied' });
        // The proposals list: a shield, "sensitive" and the reason; Accept all leaves it out.
        void vscode.commands.executeCommand('klong.showProposals');
        await wb.waitFor('.quick-input-widget .monaco-list-row', { text: 'sensitive' });
        const rows = await wb.text('.quick-input-widget .monaco-list-rows');
        assert.match(rows, /VS Code config: tasks and launch configs can run on folder open/);
        await screenshot('edits-sensitive-proposal');
        await wb.press('.quick-input-widget input', 'Escape');
      }
      assert.deepEqual(await queue.acceptAll(), []);
      assert.equal(existsSync(ws('.vscode/tasks.json')), false);
    } finally {
      edits.setQueue(undefined);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('notifications.clearAll');
      await vscode.workspace.getConfiguration().update('klong.edits.approvalMode', 'review', user);
      rmSync(ws('trust-notes.md'), { force: true });
      await sandbox.dispose();
    }
  });

  it('ask-each: the prompt for a sensitive edit says so, with the reason', async function () {
    if (!hasDriver()) this.skip();
    const sandbox = await DirSandbox.create({});
    await vscode.workspace.getConfiguration().update('klong.edits.approvalMode', 'ask-each', user);
    const queue = new EditQueue({ sandbox, ...edits.queueHooks() });
    edits.setQueue(queue);
    try {
      assert.equal(queue.mode, 'ask-each');
      await sandbox.writeFile('.envrc', 'export PATH=./bin:$PATH\n');
      const asked = queue.afterTool(1);
      // Modals are refused under test: the prompt is a notification.
      const wb = view('workbench');
      await wb.waitFor('.notification-toast', {
        text: 'KLong proposes an edit to .envrc (+1 −0). Sensitive file.',
      });
      await wb.waitFor('.notification-toast', {
        text: 'Sensitive: direnv file: runs in your shell when you enter the folder',
      });
      await screenshot('edits-sensitive-ask-each');
      await wb.click('.notification-toast .monaco-button:has-text("Decide later")');
      const r = await asked;
      assert.deepEqual(r.outcomes, []);
      assert.equal(existsSync(ws('.envrc')), false);
      assert.ok(queue.get('.envrc')?.sensitive);
    } finally {
      edits.setQueue(undefined);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('notifications.clearAll');
      await vscode.workspace.getConfiguration().update('klong.edits.approvalMode', 'review', user);
      await sandbox.dispose();
    }
  });

  it("a workspace's settings cannot set the endpoint or the Docker engine (machine settings)", async () => {
    const c = () => vscode.workspace.getConfiguration('klong');
    await c().update('model.baseUrl', 'https://api.openai.com/v1', user);
    const file = ws('.vscode/settings.json');
    const had = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    const hadDir = existsSync(ws('.vscode'));
    mkdirSync(ws('.vscode'), { recursive: true });
    writeFileSync(
      file,
      JSON.stringify({
        'klong.model.baseUrl': 'https://attacker.example/v1',
        'klong.docker.host': 'tcp://attacker.example:2375',
        // A window setting the workspace may set: proves the file was read.
        'klong.model.name': 'from-workspace',
      }),
    );
    try {
      await until('the workspace settings to load', () => c().get('model.name') === 'from-workspace');
      assert.equal(c().get('model.baseUrl'), 'https://api.openai.com/v1');
      assert.equal(endpointSettings().baseUrl, 'https://api.openai.com/v1');
      assert.equal(dockerHostSetting(), undefined);
      // Writing them to the workspace through the API is refused too.
      await assert.rejects(
        Promise.resolve(
          c().update('model.baseUrl', 'https://attacker.example/v1', vscode.ConfigurationTarget.Workspace),
        ),
      );
    } finally {
      if (had !== undefined) writeFileSync(file, had);
      else if (hadDir) rmSync(file, { force: true });
      else rmSync(ws('.vscode'), { recursive: true, force: true });
      await until('the workspace settings to unload', () => c().get('model.name') !== 'from-workspace');
      await c().update('model.baseUrl', undefined, user);
    }
  });

  it('a key saved for one endpoint is sent to another only after the user chooses to', async function () {
    if (!hasDriver() || process.env.KLONG_API_KEY !== undefined) this.skip();
    const servers: ModelServer[] = [];
    const c = () => vscode.workspace.getConfiguration('klong');
    try {
      const a = await startModelServer(() => reply('OK'));
      const b = await startModelServer(() => reply('OK'));
      servers.push(a, b);
      const originOf = (s: ModelServer) => new URL(s.url).origin;
      const wb = view('workbench');
      await c().update('model.baseUrl', a.url, user);
      await c().update('model.name', 'scripted', user);

      void vscode.commands.executeCommand('klong.setApiKey');
      await wb.waitFor('.quick-input-widget', { text: `API key for ${originOf(a)}` });
      await wb.fill('.quick-input-widget input', 'sk-for-a');
      await wb.press('.quick-input-widget input', 'Enter');
      await wb.waitFor('.notification-toast', { text: `API key saved for ${originOf(a)}` });
      await vscode.commands.executeCommand('notifications.clearAll');
      await vscode.commands.executeCommand('klong.testConnection');
      await until('server A asked with its key', () => a.authHeaders.includes('Bearer sk-for-a'));

      // Another endpoint: nothing is sent until the user answers. The question is looked for in the
      // notification centre, opened here: after the earlier suites it may not show as a toast.
      await vscode.commands.executeCommand('notifications.clearAll');
      await vscode.commands.executeCommand('notifications.showList');
      await c().update('model.baseUrl', b.url, user);
      void vscode.commands.executeCommand('klong.testConnection');
      const question = `.notification-list-item:has-text("KLong has no API key for ${originOf(b)}")`;
      await until('the question, or a request to the other endpoint', async () => {
        return b.requests.length > 0 || (await wb.count(question)) > 0;
      });
      await screenshot('api-key-other-origin');
      assert.equal(
        b.requests.length,
        0,
        `sent to the other endpoint without asking (${b.authHeaders.join(', ')})`,
      );
      await wb.click(`${question} .monaco-button:has-text("Send the key of ${originOf(a)}")`);
      await until('server B asked with the key the user chose to send', () =>
        b.authHeaders.includes('Bearer sk-for-a'),
      );
    } finally {
      await vscode.commands.executeCommand('notifications.clearAll');
      await vscode.commands.executeCommand('notifications.hideList');
      await c().update('model.baseUrl', undefined, user);
      await c().update('model.name', undefined, user);
      for (const s of servers) await s.close();
    }
  });
});
