/**
 * First run and the way into the container (runs only under test/e2e/welcome.test.ts, which makes a
 * real container for a session and names it in WELCOME_ENV.session): the welcome view with no
 * session, the walkthrough's steps completing on real checks (a key, the scripted model server's
 * /models, the Docker engine, the sandbox image), a terminal in the container, and its files in
 * the read-only "Sandbox files" view.
 */
import * as assert from 'node:assert/strict';
import { createServer } from 'node:net';
import * as vscode from 'vscode';
import { startModelServer } from '../../support/model-server';
import { EventFeed, klong } from './api';
import { hasDriver, screenshot, until, view } from './driver';
import { WELCOME_ENV } from './welcome-env';

const wb = view('workbench');
const user = vscode.ConfigurationTarget.Global;
const c = () => vscode.workspace.getConfiguration('klong');
const rows = '.quick-input-widget .monaco-list-row';
/** klong-sandbox://<session>/<path> (as src/ui/sandbox-view.ts makes them; importing it would bundle the engine). */
const sandboxUri = (session: string, path = '') =>
  vscode.Uri.from({ scheme: 'klong-sandbox', authority: session, path: `/${path}` });

/** A walkthrough step's checkbox shows it done. */
const stepDone = (id: string) => wb.count(`[data-done-step-id$="#${id}"][aria-checked="true"]`);

describe('first run: welcome view and walkthrough', function () {
  this.timeout(5 * 60_000);
  before(function () {
    if (!hasDriver() || !process.env[WELCOME_ENV.session]) this.skip();
  });

  it('shows the welcome content in the Sessions view when there is no session', async () => {
    const ui = await klong();
    assert.equal(ui.sessions?.getChildren().length, 0, 'a fresh profile has no session');
    await vscode.commands.executeCommand('klong.sessions.focus');
    await wb.waitFor('.welcome-view-content', { text: 'Get started' });
    const text = await wb.text('.welcome-view-content');
    for (const s of ['Reproduce a paper', 'Set the API key', 'pick the model', 'check Docker'])
      assert.ok(text.includes(s), `welcome view lacks "${s}": ${text}`);
    await screenshot('welcome/1-welcome-view');
  });

  it('completes each walkthrough step after its real check', async () => {
    const ui = await klong();
    const welcome = ui.welcome!;
    const server = await startModelServer(() => ({ kind: 'reply', content: 'OK' }), {
      apiKey: 'sk-welcome',
      models: ['alpha-32k', 'beta-128k', 'gamma'],
      modelInfo: { 'alpha-32k': { context_length: 32_768 }, 'beta-128k': { max_model_len: 131_072 } },
    });
    try {
      await c().update('model.baseUrl', server.url, user);
      await vscode.commands.executeCommand('klong.openWalkthrough');
      await wb.waitFor('[data-done-step-id$="#apiKey"]', { state: 'attached' });
      assert.equal(welcome.state.hasApiKey, false, 'no key yet');
      assert.equal(await stepDone('apiKey'), 0);

      // 1. The key, typed into VS Code's input box.
      void vscode.commands.executeCommand('klong.setApiKey');
      await wb.waitFor('.quick-input-widget', { text: 'API key for' });
      await wb.fill('.quick-input-widget input', 'sk-welcome');
      await wb.press('.quick-input-widget input', 'Enter');
      await until('the key check', () => welcome.state.hasApiKey);

      // 2. The model, from the endpoint's /models (only answered with the key), with context windows.
      void vscode.commands.executeCommand('klong.pickModel');
      await wb.waitFor(rows, { text: 'beta-128k' });
      const listed = await wb.text('.quick-input-widget .monaco-list-rows');
      assert.match(listed, /alpha-32k[\s\S]*32k context/);
      assert.match(listed, /beta-128k[\s\S]*128k context/);
      assert.match(listed, /gamma/);
      assert.match(listed, /Enter a model name/);
      await screenshot('welcome/2-model-pick');
      await wb.click(`${rows}:has-text("beta-128k")`);
      await until(
        'the model settings',
        () => c().get('model.name') === 'beta-128k' && c().get('model.contextLimit') === 131_072,
      );
      assert.equal(welcome.state.modelChosen, true);

      // An endpoint that does not answer: the list says so and a name can be typed in.
      const down = `http://127.0.0.1:${await closedPort()}/v1`;
      await c().update('model.baseUrl', down, user);
      void vscode.commands.executeCommand('klong.pickModel');
      await wb.waitFor(rows, {
        text: `Could not list the models: could not reach ${down}/models`,
      });
      await wb.click(`${rows}:has-text("Enter a model name")`);
      await wb.waitFor('.quick-input-widget', { text: 'model name' });
      await wb.fill('.quick-input-widget input', 'local-model');
      await wb.press('.quick-input-widget input', 'Enter');
      await wb.waitFor('.quick-input-widget', { text: 'context window of local-model' });
      await wb.fill('.quick-input-widget input', '16000');
      await wb.press('.quick-input-widget input', 'Enter');
      await until(
        'the typed model',
        () => c().get('model.name') === 'local-model' && c().get('model.contextLimit') === 16_000,
      );
      await c().update('model.baseUrl', server.url, user);

      // 3. Docker: the engine answers with its version.
      assert.equal(await vscode.commands.executeCommand('klong.checkDocker'), true);
      assert.equal(welcome.state.dockerOk, true);
      await wb.waitFor('.notification-toast', { text: 'KLong: Docker ' });

      // 4. The sandbox image: a missing one is reported with a pull offered; a present one completes.
      await c().update('docker.defaultImage', 'klong-test/absent-image:none', user);
      void vscode.commands.executeCommand('klong.checkSandbox');
      await wb.waitFor('.notification-toast', {
        text: 'klong-test/absent-image:none is not on the Docker engine',
      });
      await wb.waitFor('.notification-toast .monaco-button', { text: 'Pull klong-test/absent-image:none' });
      assert.equal(welcome.state.sandboxReady, false);
      await vscode.commands.executeCommand('notifications.clearAll');
      await c().update('docker.defaultImage', process.env[WELCOME_ENV.image], user);
      assert.equal(await vscode.commands.executeCommand('klong.checkSandbox'), true);
      assert.equal(welcome.state.sandboxReady, true);

      // The walkthrough shows the four steps done.
      await vscode.commands.executeCommand('klong.openWalkthrough');
      for (const id of ['apiKey', 'model', 'docker', 'sandbox'])
        await until(`walkthrough step ${id} checked`, async () => (await stepDone(id)) === 1);
      assert.equal(await stepDone('sample'), 0, 'the sample is not run yet');
      await vscode.commands.executeCommand('notifications.clearAll');
      await screenshot('welcome/3-walkthrough-done');
    } finally {
      await server.close();
      await c().update('docker.defaultImage', undefined, user);
      await c().update('model.baseUrl', undefined, user);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });
});

describe('the sandbox from VS Code: terminal and files', function () {
  this.timeout(5 * 60_000);
  const sessionId = process.env[WELCOME_ENV.session] ?? '';
  before(function () {
    if (!hasDriver() || !sessionId) this.skip();
  });

  it('runs a command in the container in a terminal and shows what it printed', async () => {
    const ui = await klong();
    ui.session.reset();
    new EventFeed(ui).push(
      {
        type: 'session_started',
        sessionId,
        paperTitle: 'Sandbox paper',
        paperPath: '/p.md',
        workspace: '/w',
        model: 'm',
        budgetMs: 3600_000,
      },
      { type: 'status', status: 'running' },
    );
    // The DOM renderer, so that the driver can read the terminal's rows as text.
    await vscode.workspace
      .getConfiguration('terminal.integrated')
      .update('gpuAcceleration', 'off', vscode.ConfigurationTarget.Global);
    const terminal = (await vscode.commands.executeCommand<vscode.Terminal>('klong.openSandboxTerminal'))!;
    assert.ok(terminal, 'a terminal opened');
    const shown = () => ui.sandbox!.terminals.at(-1)!.output();
    await until('the shell prompt', () => /[$#] *$/.test(shown()), 60_000);
    terminal.sendText('echo "answer=$((6*7))" | tee answer.txt; cat /etc/hostname; pwd');
    await until('the command output', () => /answer=42\r?\n/.test(shown()), 60_000);
    assert.match(shown(), /\/workspace/);
    // What the terminal shows on screen (xterm's rows), not only what KLong wrote to it.
    await wb.waitFor('.xterm-rows', { text: 'answer=42' });
    await screenshot('welcome/4-sandbox-terminal');
    // The file the command wrote is in the container's workspace.
    const answer = await vscode.workspace.fs.readFile(sandboxUri(sessionId, 'answer.txt'));
    assert.equal(Buffer.from(answer).toString('utf8'), 'answer=42\n');
    terminal.dispose();
  });

  it('lists the container’s workspace, opens a log and a plot, and refuses writes', async () => {
    await vscode.commands.executeCommand('klong.browseSandbox');
    const root = await vscode.workspace.fs.readDirectory(sandboxUri(sessionId));
    const names = root.map(([n]) => n);
    for (const n of ['plot.png', 'logs', 'answer.txt'])
      assert.ok(names.includes(n), `${n} not listed: ${names}`);
    assert.ok(!names.includes('.git'), 'the shadow git is not shown');
    await wb.waitFor('.monaco-list-row', { text: 'plot.png' });

    // The log: a click in the tree opens it in a (read-only) editor.
    await wb.click('.monaco-list-row:has-text("logs")');
    await wb.waitFor('.monaco-list-row', { text: 'train.log' });
    await wb.click('.monaco-list-row:has-text("train.log")');
    const editor = await until('the log in an editor', () =>
      vscode.window.activeTextEditor?.document.uri.scheme === 'klong-sandbox'
        ? vscode.window.activeTextEditor
        : undefined,
    );
    assert.match(editor!.document.getText(), /epoch 3 loss 0\.12/);
    assert.equal(editor!.document.uri.path, '/logs/train.log');

    // The plot: VS Code's image viewer.
    await wb.click('.monaco-list-row:has-text("plot.png")');
    await until('the plot in the image preview', () => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      return (
        input instanceof vscode.TabInputCustom &&
        input.uri.scheme === 'klong-sandbox' &&
        input.uri.path === '/plot.png' &&
        input.viewType === 'imagePreview.previewEditor'
      );
    });
    // The image viewer decoded it: it shows the plot's size in the status bar.
    await wb.waitFor('.statusbar-item', { text: '128x128' });
    await screenshot('welcome/5-sandbox-files');

    await assert.rejects(
      Promise.resolve(vscode.workspace.fs.writeFile(sandboxUri(sessionId, 'answer.txt'), Buffer.from('x'))),
      /read-only|NoPermissions/i,
    );
    await assert.rejects(
      Promise.resolve(vscode.workspace.fs.readFile(sandboxUri(sessionId, '../etc/passwd'))),
      'a path outside the workspace is refused',
    );
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});

/** A port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}
