import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { hasDriver, screenshot, view } from './driver';

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
    // The webview loaded our bundle: either the empty state or a session header is there.
    await view('progress').waitFor('.empty:not([hidden]), #status', { state: 'attached' });
    assert.ok((await view('progress').count('#app[data-klong-view="progress"] details.group')) >= 4);
    await screenshot('smoke-progress-view');
  });
});
