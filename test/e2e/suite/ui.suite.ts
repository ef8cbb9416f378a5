import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { loadRubric } from '../../../src/paper/rubric/rubric';
import { nodePath, type RubricNode } from '../../../src/paper/types';
import { notifyError } from '../../../src/ui/notify';
import { EventFeed, klong } from './api';
import { hasDriver, repoRoot, screenshot, until, view } from './driver';

const workbench = view('workbench');
const progress = view('progress');

describe('status bar, notifications and rubric', () => {
  before(function () {
    if (!hasDriver()) this.skip();
  });

  it('shows the session in one status bar item; its menu focuses the progress view', async () => {
    const ui = await klong();
    ui.session.reset();
    const feed = new EventFeed(ui, Date.now() - 3 * 3600_000);
    feed.push(
      {
        type: 'session_started',
        sessionId: 'sb',
        paperTitle: 'Status paper',
        paperPath: '/p.pdf',
        workspace: '/w',
        model: 'm',
        budgetMs: 8 * 3600_000,
      },
      { type: 'status', status: 'running' },
      { type: 'stage', stage: 'run' },
    );
    await until('status bar text', () => ui.statusBar.text.includes('KLong: running · run'));
    await workbench.waitFor('.statusbar-item', { text: 'KLong: running' });
    await vscode.commands.executeCommand('workbench.view.explorer');
    await workbench.click('.statusbar-item:has-text("KLong: running")');
    await workbench.waitFor('.quick-input-widget .monaco-list-row', { text: 'Pause' });
    await screenshot('status-bar-menu');
    await workbench.click('.quick-input-widget .monaco-list-row:has-text("Show progress")');
    await progress.waitFor('#status', { text: 'running' });
    assert.equal(ui.statusBar.tone, undefined, 'a running session has no warning colour');
    feed.push({ type: 'status', status: 'failed', reason: 'docker went away' });
    await workbench.waitFor('.statusbar-item', { text: 'KLong: failed' });
    assert.equal(ui.statusBar.tone, 'statusBarItem.errorBackground');
    await screenshot('status-bar-failed');
  });

  it('an error notification offers Retry, Settings and Open log; Retry runs again', async () => {
    let retried = 0;
    const choice = notifyError('Docker is not running. Start Docker Desktop or set klong.docker.host.', {
      retry: () => {
        retried++;
      },
      settings: 'klong.docker',
    });
    await workbench.waitFor('.notification-toast', { text: 'Docker is not running' });
    for (const label of ['Retry', 'Settings', 'Open log'])
      await workbench.waitFor('.notification-toast .monaco-button', { text: label });
    await screenshot('notification-error');
    await workbench.click(
      '.notification-toast:has-text("Docker is not running") .monaco-button:has-text("Retry")',
    );
    assert.equal(await choice, 'Retry');
    assert.equal(retried, 1);
  });

  const rubricPath = join(
    repoRoot(),
    '..',
    'shared',
    'fixtures',
    'paperbench',
    'self-expansion',
    'rubric.json',
  );
  it('shows a PaperBench rubric tree with scores when graded', async function () {
    if (!existsSync(rubricPath)) {
      console.log(`      (skipped: ${rubricPath} is absent)`);
      this.skip();
    }
    const ui = await klong();
    const rubric = await loadRubric(rubricPath);
    ui.session.setRubric(rubric);
    await ui.progress.reveal();
    await progress.waitFor('.rubric summary');
    // Grade every leaf of the first top-level task: 1 for even positions, 0 for odd.
    const grades: Record<string, { score: number }> = {};
    // Grades are keyed by the node's path (child indices), not its id.
    const leaves = (n: RubricNode, path: string): string[] =>
      n.sub_tasks.length ? n.sub_tasks.flatMap((c, i) => leaves(c, nodePath(path, i))) : [path];
    leaves(rubric.sub_tasks[0]!, '0').forEach((p, i) => {
      grades[p] = { score: i % 2 === 0 ? 1 : 0 };
    });
    ui.session.setGrades(grades);
    const score = ui.session.snapshot.rubric?.children[0]?.score;
    assert.equal(typeof score, 'number');
    await progress.waitFor('.rubric .score', { text: `${Math.round((score as number) * 100)}%` });
    await progress.evaluate(`document.getElementById('group-rubric').scrollIntoView()`);
    await screenshot('progress-rubric-graded', 'progress');
  });
});
