/**
 * Review of a session an engine process drives (klong.engine.detached), in a real VS Code (runs
 * only under test/e2e/review-detached.test.ts): the engine's proposal opens in the diff editor as
 * in-host (left the user's file, right the agent's version, fetched over the control channel), one
 * hunk is accepted from its CodeLens and the other rejected with a reason; the user's file has
 * exactly the accepted hunk. Switching the approval mode to auto-accept reaches the running engine
 * and the agent's next edit lands without review.
 */
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { klong, useScriptedModel } from './api';
import { hasDriver, screenshot, until, view } from './driver';
import { REVIEW_ACCEPTED, REVIEW_ENV, REVIEW_LATER, REVIEW_ORIGINAL, REVIEW_PROPOSED } from './review-env';

const RIGHT = vscode.Uri.from({ scheme: 'klong-proposal', path: '/model.py' });

function diffTab(): vscode.TabInputTextDiff | undefined {
  for (const g of vscode.window.tabGroups.all)
    for (const t of g.tabs)
      if (t.input instanceof vscode.TabInputTextDiff && t.input.modified.toString() === RIGHT.toString())
        return t.input;
  return undefined;
}

async function lenses(): Promise<vscode.CodeLens[]> {
  return (
    (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', RIGHT)) ?? []
  );
}

async function shot(name: string): Promise<void> {
  if (hasDriver()) await screenshot(`review-detached/${name}`);
}

describe('review in a detached session', function () {
  this.timeout(10 * 60_000);

  it('opens the engine’s proposal in a diff, decides hunks over the channel, switches to auto-accept', async function () {
    const paper = process.env[REVIEW_ENV.paper];
    const flag = process.env[REVIEW_ENV.autoFlag];
    if (!paper || !flag) return this.skip();
    const ui = await klong();
    const ws = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const file = join(ws, 'model.py');
    await vscode.workspace.getConfiguration('diffEditor').update('codeLens', true, true);
    // Machine-scoped settings count from the remote machine's settings in code-server: set here.
    await useScriptedModel(process.env[REVIEW_ENV.modelUrl]);
    const c = vscode.workspace.getConfiguration('klong');
    await c.update('engine.detached', true, vscode.ConfigurationTarget.Global);
    await c.update('docker.defaultImage', process.env[REVIEW_ENV.image], vscode.ConfigurationTarget.Global);

    await vscode.commands.executeCommand('klong.reproducePaper', vscode.Uri.file(paper));
    const link = (await until('the engine to serve the session', () => ui.reproduce?.following, 5 * 60_000))!;
    assert.equal(ui.reproduce?.running, undefined, 'the agent runs in the engine, not in the extension host');
    await until('the proposal in the status bar', () => ui.edits.status.state.pending === 1, 5 * 60_000);
    assert.equal(readFileSync(file, 'utf8'), REVIEW_ORIGINAL, 'review: nothing written unasked');

    // The diff editor, as in-host: the user's file against the engine's proposal.
    await vscode.commands.executeCommand('klong.openProposal', 'model.py');
    const tab = await until('the proposal diff tab', () => diffTab());
    assert.equal(tab!.original.scheme, 'file');
    assert.equal(tab!.original.fsPath, file, 'the left side is the user’s file');
    assert.equal((await vscode.workspace.openTextDocument(RIGHT)).getText(), REVIEW_PROPOSED);
    const hunkLenses = await until('a lens per change', async () => {
      const l = (await lenses()).filter((x) => x.command?.command === 'klong.acceptHunk');
      return l.length === 2 ? l : undefined;
    });
    await shot('1-diff');

    // Accept the first change from its CodeLens (clicked in the workbench when there is a driver).
    if (hasDriver()) {
      await view('workbench').waitFor('.monaco-diff-editor .codelens-decoration a', {
        text: 'Accept change',
      });
      await view('workbench').click('.monaco-diff-editor .codelens-decoration a:has-text("Accept change")');
    } else {
      await vscode.commands.executeCommand('klong.acceptHunk', ...(hunkLenses![0]!.command!.arguments ?? []));
    }
    await until('the accepted change on disk', () => readFileSync(file, 'utf8') === REVIEW_ACCEPTED);
    // The diff follows the engine: one change left, a new version.
    const fileLens = await until('the diff to refresh', async () => {
      const l = await lenses();
      const accept = l.find((x) => x.command?.command === 'klong.acceptProposal');
      return l.some((x) => x.command?.command === 'klong.acceptHunk') ? undefined : accept;
    });
    const [, version] = fileLens!.command!.arguments as [string, number];
    assert.equal(ui.edits.status.state.pending, 1);
    await shot('2-one-change-left');

    // Reject the other change with a reason typed into the real InputBox.
    const reason = 'keep value_18 a constant';
    if (hasDriver()) {
      const rejecting = vscode.commands.executeCommand('klong.rejectHunk', 'model.py', 0, version);
      await view('workbench').fill('.quick-input-widget input', reason);
      await view('workbench').press('.quick-input-widget input', 'Enter');
      await rejecting;
    } else {
      await vscode.commands.executeCommand('klong.rejectHunk', 'model.py', 0, version, reason);
    }
    await until('the decided diff to close', () => !diffTab());
    await until('the status bar count', () => ui.edits.status.state.pending === 0);
    await until('the progress view to show the rejection', () =>
      ui.session.snapshot.proposals.some((p) => p.path === 'model.py' && p.status === 'rejected'),
    );
    assert.equal(readFileSync(file, 'utf8'), REVIEW_ACCEPTED, 'exactly the accepted change');

    // The approval mode reaches the running engine.
    await vscode.commands.executeCommand('klong.setApprovalMode', 'auto-accept');
    await until('the engine in auto-accept', async () => (await link.status()).approval === 'auto-accept');
    assert.equal(ui.edits.status.state.mode, 'auto-accept');
    writeFileSync(flag, 'auto-accept\n');
    await until('the next edit to land unreviewed', () => existsSync(join(ws, 'later.txt')), 3 * 60_000);
    assert.equal(readFileSync(join(ws, 'later.txt'), 'utf8'), REVIEW_LATER);
    assert.equal(ui.edits.status.state.pending, 0);
    await shot('3-auto-accepted');

    await vscode.commands.executeCommand('klong.stopSession');
    await until('the engine to end the session', () => !ui.reproduce?.following, 120_000);
  });
});
