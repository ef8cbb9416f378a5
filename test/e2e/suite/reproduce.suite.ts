/**
 * Acceptance (runs only under test/e2e/reproduce.test.ts, which starts the scripted model): the
 * user runs "KLong: Reproduce this paper" on the fixture PDF (its engine runs on its own, the
 * default), accepts the first proposals, reloads the window mid-session, and the new window follows
 * the engine at once (no Resume); then accepts the rest including REPRODUCTION.md with the grade,
 * and the engine exits. The reload restarts the extension host and re-runs this suite; the phase
 * file says which half.
 */
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { klong, useScriptedModel } from './api';
import { hasDriver, screenshot, until } from './driver';
import { REPRODUCE_ENV } from './reproduce-env';

interface Phase {
  phase: number;
  sessionId?: string;
  enginePid?: number;
}

const phaseFile = process.env[REPRODUCE_ENV.phaseFile] ?? '';
const readPhase = (): Phase =>
  existsSync(phaseFile) ? JSON.parse(readFileSync(phaseFile, 'utf8')) : { phase: 1 };
const writePhase = (p: Phase) => writeFileSync(phaseFile, JSON.stringify(p));
const workspace = () => vscode.workspace.workspaceFolders![0]!.uri.fsPath;

async function shot(name: string): Promise<void> {
  if (hasDriver()) await screenshot(`reproduce/${name}`);
}

const pending = (paths: { path: string; status: string }[], path: string) =>
  paths.some((p) => p.path === path && p.status === 'pending');

describe('acceptance: reproduce the resampling paper', function () {
  this.timeout(20 * 60_000);

  it('reproduces, survives a window reload, grades and proposes the report', async function () {
    if (!process.env[REPRODUCE_ENV.modelUrl]) return this.skip();
    const ui = await klong();
    const phase = readPhase();

    if (phase.phase === 1) {
      await useScriptedModel(process.env[REPRODUCE_ENV.modelUrl]);
      await vscode.commands.executeCommand(
        'klong.reproducePaper',
        vscode.Uri.file(process.env[REPRODUCE_ENV.paper]!),
      );
      const link = (await until(
        'the engine to serve the session',
        () => ui.reproduce?.following,
        5 * 60_000,
      ))!;
      assert.equal(ui.reproduce?.running, undefined, 'the agent does not run in the extension host');
      const enginePid = (await link.status()).pid;
      assert.notEqual(enginePid, process.pid);
      // KLong: Message the agent: it reaches the agent at its next step (reproduce.test.ts checks the request).
      await vscode.commands.executeCommand('klong.messageAgent', 'Please keep the seed fixed at 7.');
      await until(
        'proposals for resampling.py and reproduce.sh',
        () =>
          pending(ui.session.snapshot.proposals, 'resampling.py') &&
          pending(ui.session.snapshot.proposals, 'reproduce.sh'),
        5 * 60_000,
      );
      // Proposals only reach the workspace when accepted.
      assert.equal(existsSync(join(workspace(), 'resampling.py')), false);
      await shot('1-proposals');
      await vscode.commands.executeCommand('klong.acceptProposal', 'resampling.py');
      await vscode.commands.executeCommand('klong.acceptProposal', 'reproduce.sh');
      await until('accepted files in the workspace', () => existsSync(join(workspace(), 'reproduce.sh')));
      assert.match(readFileSync(join(workspace(), 'resampling.py'), 'utf8'), /def bootstrap/);
      writePhase({ phase: 2, sessionId: link.sessionId, enginePid });
      await shot('2-before-reload');
      await vscode.commands.executeCommand('workbench.action.reloadWindow');
      await new Promise(() => {}); // the reload ends this extension host
    }

    assert.equal(phase.phase, 2, `unexpected phase ${phase.phase}`);
    // No command, no prompt: the reloaded window follows the engine that went on meanwhile.
    const link = (await until(
      'the window to follow the session again',
      () => ui.reproduce?.following,
      60_000,
    ))!;
    assert.equal(link.sessionId, phase.sessionId);
    assert.equal((await link.status()).pid, phase.enginePid, 'the same engine, not a resumed one');
    // The history from before the reload is back in the progress view.
    assert.ok(ui.session.snapshot.step >= 4, `step ${ui.session.snapshot.step} after the reload`);
    await until('the grade', () => ui.session.snapshot.grade !== null, 10 * 60_000);
    await until(
      'REPRODUCTION.md proposed',
      () => pending(ui.session.snapshot.proposals, 'REPRODUCTION.md'),
      60_000,
    );
    assert.equal(ui.session.snapshot.grade, 1);
    await vscode.commands.executeCommand('workbench.view.extension.klong');
    await shot('3-graded');
    await vscode.commands.executeCommand('klong.acceptAllProposals');
    await until(
      'the report in the workspace',
      () => existsSync(join(workspace(), 'REPRODUCTION.md')),
      60_000,
    );
    assert.match(readFileSync(join(workspace(), 'REPRODUCTION.md'), 'utf8'), /Resampling methods/i);
    assert.ok(existsSync(join(workspace(), 'README.md')));
    const doc = await vscode.workspace.openTextDocument(join(workspace(), 'REPRODUCTION.md'));
    await vscode.window.showTextDocument(doc, { preview: false });
    await shot('4-report');
    // Nothing left to decide: the engine ends and the window lets go (reproduce.test.ts checks its pid).
    await until('the engine to end', () => !ui.reproduce?.following, 120_000);
    writePhase({ phase: 3, enginePid: phase.enginePid });
  });
});
