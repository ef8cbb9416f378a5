/**
 * A session an engine process drives (runs only under test/e2e/engine.test.ts, which starts the
 * scripted model and `klong reproduce --detach` into the state folder this window uses, on this
 * window's workspace). The window follows it at once (no prompt), lists it as running with its
 * engine, shows its events live, and pause / resume / messages reach the engine over its channel.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { klong } from './api';
import { hasDriver, screenshot, until, view } from './driver';
import { ENGINE_ENV } from './engine-env';

describe('engine-driven sessions', function () {
  this.timeout(5 * 60_000);

  it('follows a CLI session at startup, lists it as running, steers it and messages its agent', async function () {
    const id = process.env[ENGINE_ENV.sessionId];
    if (!id) return this.skip();
    const ui = await klong();

    // At startup, without a prompt: the window follows the running session of its workspace.
    const link = (await until(
      'the window to follow the running session',
      () => ui.reproduce?.following,
      60_000,
    ))!;
    assert.equal(link.sessionId, id);
    assert.equal(ui.reproduce?.running, undefined, 'the agent does not run in this extension host');
    assert.equal(ui.session.snapshot.session?.id, id);

    // Listed from the shared state folder as running, with its engine.
    const sessions = ui.sessions!;
    await vscode.commands.executeCommand('klong.sessions.refresh');
    const entry = (await until('the session in the Sessions view', () =>
      sessions.getChildren().find((e) => e.id === id),
    ))!;
    assert.match(String(sessions.getTreeItem(entry).description), /^running \(engine pid \d+\) · /);
    assert.match(String(sessions.getTreeItem(entry).contextValue), /engine/);

    // Live: steps arrive while we watch.
    const before = ui.session.snapshot.step;
    await until('live steps from the engine', () => ui.session.snapshot.step > before + 1, 60_000);

    // Opening it from the Sessions view keeps following it.
    await vscode.commands.executeCommand('klong.sessions.open', entry);
    assert.equal(ui.reproduce?.following, link);

    // Pause and resume go through the channel; the engine's status events come back live.
    await vscode.commands.executeCommand('klong.pauseSession');
    await until('paused', () => ui.session.snapshot.status === 'paused', 60_000);
    await vscode.commands.executeCommand('klong.resumeSession');
    await until('running again', () => ui.session.snapshot.status === 'running', 60_000);

    const said = (text: string) =>
      ui.session.timeline(0, ui.session.timelineLength).some((r) => r.title.includes(text));
    const fromView = process.env[ENGINE_ENV.messageView]!;
    if (hasDriver()) {
      await vscode.commands.executeCommand('workbench.view.extension.klong');
      const pv = view('progress');
      await pv.waitFor('#say-text');
      await pv.fill('#say-text', fromView);
      await pv.click('#say-send');
      await until('the message typed in the progress view in the timeline', () => said(fromView), 60_000);
      await screenshot('engine/message-from-view');
    } else {
      await vscode.commands.executeCommand('klong.messageAgent', fromView);
    }
    const fromCommand = process.env[ENGINE_ENV.messageCommand]!;
    await vscode.commands.executeCommand('klong.messageAgent', fromCommand);
    // The scripted model ends the task once it has read the second message.
    await until('the session to end', () => ui.session.snapshot.status === 'done', 120_000);
    assert.ok(said(fromCommand), 'the message sent with the command is in the timeline');
    await until('the link to close with the engine', () => !ui.reproduce?.following, 60_000);
  });
});
