import * as assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { klong } from './api';
import { hasDriver, screenshot, until, view } from './driver';

describe('Sessions view', () => {
  it('lists sessions from disk (paper, status, active time, score), opens one into the progress view, follows deletes', async () => {
    const ui = await klong();
    const sessions = ui.sessions;
    assert.ok(sessions, 'the Sessions view is registered');
    const store = sessions.store;
    const id = `e2e-sessions-${Date.now().toString(36)}`;
    let t = Date.now() - 3_600_000;
    const live = store.create(
      {
        sessionId: id,
        paperTitle: 'E2E Sessions Paper',
        paperPath: '/papers/e2e.pdf',
        workspace: '/ws/e2e',
        model: 'test-model',
        budgetMs: 3_600_000,
      },
      { now: () => t },
    );
    live.append({ type: 'status', status: 'running' });
    t += 25 * 60_000;
    live.append({ type: 'tool_call', step: 1, callId: 'c1', name: 'bash', args: '{"command":"ls"}' });
    t += 5 * 60_000;
    live.append({ type: 'grade', score: 0.5 });
    live.append({ type: 'status', status: 'stopped', reason: 'user' });
    live.close();

    await vscode.commands.executeCommand('klong.sessions.refresh');
    const entry = (await until('the session in the view', () =>
      sessions.getChildren().find((e) => e.id === id),
    ))!;
    const item = sessions.getTreeItem(entry);
    assert.equal(item.label, 'E2E Sessions Paper');
    assert.equal(item.description, 'stopped · 30m · score 50%');
    assert.match(item.contextValue ?? '', /resumable/);

    if (hasDriver()) {
      await vscode.commands.executeCommand('klong.sessions.focus');
      await view('workbench').waitFor('.monaco-list-row', { text: 'E2E Sessions Paper' });
      await screenshot('sessions-view');
    }

    ui.session.reset();
    await vscode.commands.executeCommand('klong.sessions.open', entry);
    assert.equal(ui.session.timelineLength > 0, true, 'open loaded the timeline');
    assert.equal(ui.session.snapshot.status, 'stopped');

    store.delete(id);
    assert.equal(existsSync(entry.dir), false);
    await vscode.commands.executeCommand('klong.sessions.refresh');
    assert.equal(
      sessions.getChildren().some((e) => e.id === id),
      false,
    );
    ui.session.reset();
  });

  it('marks the session this window drives and follows its status without waiting for file events', async () => {
    const ui = await klong();
    const sessions = ui.sessions!;
    const id = `e2e-sessions-here-${Date.now().toString(36)}`;
    // store.create takes the session's lock for this extension host, as Reproduce does.
    const live = sessions.store.create({
      sessionId: id,
      paperTitle: 'E2E Held Paper',
      paperPath: '/papers/e2e.pdf',
      workspace: '/ws/e2e',
      model: 'test-model',
      budgetMs: 3_600_000,
    });
    try {
      live.append({ type: 'status', status: 'running' });
      await vscode.commands.executeCommand('klong.sessions.refresh');
      const entry = (await until('the held session in the view', () =>
        sessions.getChildren().find((e) => e.id === id),
      ))!;
      assert.match(String(sessions.getTreeItem(entry).description), /^running \(this window\) · /);
      assert.doesNotMatch(String(sessions.getTreeItem(entry).contextValue), /resumable/);

      // The progress model of this window moves to paused: the view refreshes on its own.
      let refreshed = false;
      const sub = sessions.onDidChangeTreeData(() => {
        refreshed = true;
      });
      live.append({ type: 'status', status: 'paused', reason: 'user' });
      ui.session.reset();
      ui.session.applyAll([{ type: 'status', status: 'paused', reason: 'user', seq: 1, ts: Date.now() }]);
      await until('the view refreshed after the status change', () => refreshed);
      sub.dispose();
      const after = sessions.getChildren().find((e) => e.id === id)!;
      assert.match(String(sessions.getTreeItem(after).description), /^paused \(this window\) · /);
    } finally {
      live.close();
      sessions.store.delete(id);
      ui.session.reset();
    }
  });

  it('Open report opens REPRODUCTION.md whatever the approval mode: the workspace copy, else the session folder', async () => {
    const ui = await klong();
    const store = ui.sessions!.store;
    const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath as string;
    const id = `e2e-report-${Date.now().toString(36)}`;
    const live = store.create({
      sessionId: id,
      paperTitle: 'E2E Report Paper',
      paperPath: '/papers/e2e.pdf',
      workspace: ws,
      model: 'test-model',
      budgetMs: 3_600_000,
    });
    live.append({ type: 'status', status: 'done' });
    live.close();
    const active = () => vscode.window.activeTextEditor?.document.uri.fsPath;
    const inWorkspace = join(ws, 'REPRODUCTION.md');
    try {
      // No session has a report yet: it says so instead of "no pending edit".
      await vscode.commands.executeCommand('klong.openReport', id);
      if (hasDriver()) {
        await view('workbench').waitFor('.notification-toast', {
          text: 'the session "E2E Report Paper" has no REPRODUCTION.md yet',
        });
        await vscode.commands.executeCommand('notifications.clearAll');
      }
      // The copy every session keeps (a CLI session, or an edit the user rejected).
      writeFileSync(join(store.dirOf(id), 'REPRODUCTION.md'), '# Session copy\n');
      // From the Sessions view's context menu: the command gets the view's entry.
      await vscode.commands.executeCommand('klong.sessions.refresh');
      const entry = await until('the session in the view', () =>
        ui.sessions!.getChildren().find((e) => e.id === id),
      );
      await vscode.commands.executeCommand('klong.openReport', entry);
      await until('the session copy open', () => active() === join(store.dirOf(id), 'REPRODUCTION.md'));
      // Auto-accept wrote it into the workspace (nothing pending): that one opens, also without an id.
      writeFileSync(inWorkspace, '# Workspace copy\n');
      await vscode.commands.executeCommand('klong.openReport');
      await until('the workspace report open', () => active() === inWorkspace);
      assert.equal(vscode.window.activeTextEditor?.document.getText(), '# Workspace copy\n');
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      rmSync(inWorkspace, { force: true });
      store.delete(id);
    }
  });
});
