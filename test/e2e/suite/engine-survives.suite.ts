/**
 * A session started in VS Code runs in an engine process of its own (klong.engine.detached), so it
 * outlives VS Code (runs only under test/e2e/engine-survives.test.ts). Phase 1 starts it and waits
 * for a few steps; the runner then kills the whole code-server process group, waits, and starts it
 * again. Phase 2: the new window follows the session at once (no Resume), with the steps made while
 * VS Code was gone, and stops it.
 */
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { klong } from './api';
import { hasDriver, screenshot, until, view } from './driver';
import { SURVIVE_ENV } from './engine-env';

interface Phase {
  phase: number;
  sessionId?: string;
  step?: number;
}

describe('sessions outlive VS Code', function () {
  this.timeout(10 * 60_000);

  it('goes on while code-server is killed and is followed again without a Resume', async function () {
    const phaseFile = process.env[SURVIVE_ENV.phaseFile];
    if (!phaseFile) return this.skip();
    const phase: Phase = existsSync(phaseFile) ? JSON.parse(readFileSync(phaseFile, 'utf8')) : { phase: 1 };
    const ui = await klong();

    if (phase.phase === 1) {
      await vscode.commands.executeCommand(
        'klong.reproducePaper',
        vscode.Uri.file(process.env[SURVIVE_ENV.paper]!),
      );
      const link = (await until(
        'the engine to serve the session',
        () => ui.reproduce?.following,
        5 * 60_000,
      ))!;
      assert.equal(ui.reproduce?.running, undefined, 'the agent does not run in the extension host');
      await until('a few steps', () => ui.session.snapshot.step >= 3, 5 * 60_000);
      if (hasDriver()) await screenshot('engine-survives/1-before-kill');
      writeFileSync(
        phaseFile,
        JSON.stringify({ phase: 2, sessionId: link.sessionId, step: ui.session.snapshot.step }),
      );
      await new Promise(() => {}); // the runner kills code-server now
    }

    assert.equal(phase.phase, 2, `unexpected phase ${phase.phase}`);
    // No command, no prompt: the window follows the running session of its workspace.
    const link = (await until(
      'the window to follow the session again',
      () => ui.reproduce?.following,
      60_000,
    ))!;
    assert.equal(link.sessionId, phase.sessionId);
    assert.equal(ui.reproduce?.running, undefined);
    const step = ui.session.snapshot.step;
    assert.ok(step > (phase.step ?? 0) + 3, `steps made while VS Code was gone: ${phase.step} → ${step}`);
    await until('live steps', () => ui.session.snapshot.step > step, 60_000);
    // The new window's status bar shows the session its engine runs.
    await until('the status bar to show the running session', () =>
      ui.statusBar.text.includes('KLong: running'),
    );
    if (hasDriver()) {
      await view('workbench').waitFor('.statusbar-item', { text: 'KLong: running' });
      await vscode.commands.executeCommand('workbench.view.extension.klong');
      await view('progress').waitFor('#say-text'); // shown once the view has the running session
      await screenshot('engine-survives/2-followed-again');
    }
    await vscode.commands.executeCommand('klong.stopSession');
    await until('the engine to end the session', () => !ui.reproduce?.following, 120_000);
    writeFileSync(phaseFile, JSON.stringify({ ...phase, phase: 3, step: ui.session.snapshot.step }));
  });
});
