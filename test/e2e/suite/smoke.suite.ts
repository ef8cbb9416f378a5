import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { hasDriver, screenshot, until } from './driver';

describe('extension host', () => {
  it('activates the extension and registers its commands', async () => {
    const ext = vscode.extensions.getExtension('klong-dev.klong');
    assert.ok(ext, 'extension klong-dev.klong is not loaded');
    await ext.activate();
    const cmds = await vscode.commands.getCommands(true);
    for (const id of ['klong.reproducePaper', 'klong.showLog']) assert.ok(cmds.includes(id), `${id} missing`);
  });

  it('shows the progress view in the activity bar', async function () {
    if (!hasDriver()) this.skip();
    await vscode.commands.executeCommand('klong.progress.focus');
    await until('screenshot', () => screenshot('smoke-progress-view'));
  });
});
