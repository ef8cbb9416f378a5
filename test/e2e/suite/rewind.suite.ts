/**
 * Rewind from the timeline (runs only under test/e2e/rewind.test.ts, which starts the scripted
 * model): a session writes a.txt, writes b.txt, deletes a.txt, then waits on the model; the user
 * right-clicks step 1 in the timeline and picks "Rewind code and conversation to this step". The
 * running session is interrupted, rewound and resumed: the container has a.txt and no b.txt, the
 * proposals are recomputed, steps 2 and 3 stay as an abandoned branch, and "Review changes of the
 * whole session" opens the multi-file diff editor. The agent's next request is checked by the runner.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { klong, useScriptedModel } from './api';
import { hasDriver, screenshot, until, view } from './driver';
import { REWIND_ENV } from './rewind-env';

describe('rewind from the timeline', function () {
  this.timeout(10 * 60_000);

  it('rewinds a running session to step 1 from the context menu of its row', async function () {
    if (!process.env[REWIND_ENV.modelUrl]) return this.skip();
    const ui = await klong();
    await useScriptedModel(process.env[REWIND_ENV.modelUrl]);

    await vscode.commands.executeCommand(
      'klong.reproducePaper',
      vscode.Uri.file(process.env[REWIND_ENV.paper]!),
    );
    const run = (await until('the session to start', () => ui.reproduce?.running, 5 * 60_000))!;
    await until(
      'step 3 done (a.txt deleted, b.txt proposed)',
      () => {
        const rows = ui.session.timeline(0, ui.session.timelineLength);
        return rows.some((r) => r.step === 3 && r.kind === 'tool' && r.state === 'ok');
      },
      3 * 60_000,
    );
    const live = () => ui.session.snapshot.proposals.filter((p) => p.status === 'pending');
    await until(
      'b.txt proposed, a.txt no longer an addition',
      () =>
        live().some((p) => p.path === 'b.txt') && !live().some((p) => p.path === 'a.txt' && p.kind === 'add'),
    );

    if (hasDriver()) {
      await vscode.commands.executeCommand('workbench.view.extension.klong');
      const progress = view('progress');
      // The row of step 1's tool call: right-click opens VS Code's own context menu.
      const row = '.tl-row[data-vscode-context*=\'"step":1\']';
      await progress.waitFor(row, { state: 'attached' });
      await screenshot('rewind/1-before');
      await progress.click(row, 'right');
      const item = '.context-view .action-label:text-is("Rewind code and conversation to this step")';
      await view('workbench').waitFor(item);
      await screenshot('rewind/1-context-menu');
      // VS Code's menu ignores a mouse-up that comes right after it opened: let it settle first.
      await new Promise((r) => setTimeout(r, 1000));
      await view('workbench').click(item);
    } else {
      // Without the browser driver: the command with the argument the context menu passes.
      await vscode.commands.executeCommand('klong.rewindBoth', { webviewSection: 'step', step: 1 });
    }

    const resumed = (await until(
      'the resumed session',
      () => (ui.reproduce?.running && ui.reproduce.running !== run ? ui.reproduce.running : undefined),
      3 * 60_000,
    ))!;
    assert.equal(resumed.sessionId, run.sessionId);
    // The container is back at step 1: a.txt again, no b.txt; proposals recomputed from it.
    assert.equal(Buffer.from(await resumed.sandbox.readFile('a.txt')).toString(), 'one\n');
    await assert.rejects(resumed.sandbox.readFile('b.txt'), /No such file/);
    await until(
      'a.txt proposed again as an addition, b.txt gone',
      () => live().length === 1 && live()[0]!.path === 'a.txt' && live()[0]!.kind === 'add',
    );
    assert.deepEqual(
      resumed.queue.list().map((p) => p.path),
      ['a.txt'],
    );
    // The log kept steps 2 and 3, as an abandoned branch.
    const rows = ui.session.timeline(0, ui.session.timelineLength);
    assert.ok(
      rows.some(
        (r) =>
          r.kind === 'rewind' && /^Rewound code and conversation to step 1 \(from step [34]\)$/.test(r.title),
      ),
    );
    const abandoned = new Set(rows.filter((r) => r.abandoned).map((r) => r.step));
    // (step 4 is the request the rewind interrupted, when it got that far)
    assert.ok(abandoned.has(2) && abandoned.has(3) && !abandoned.has(1), `abandoned: ${[...abandoned]}`);
    assert.ok(rows.some((r) => r.step === 1 && r.kind === 'tool' && !r.abandoned));
    await until('the agent asked the model again', () => ui.session.snapshot.step >= 4, 60_000);
    if (hasDriver()) {
      await view('progress').waitFor('.tl-row.abandoned', { state: 'attached' });
      await screenshot('rewind/2-after');
    }

    // Review the whole session in the multi-file diff editor: one tab titled by the review.
    await vscode.commands.executeCommand('klong.reviewSession');
    await until('the multi-file diff editor', () =>
      vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .some((t) => t.label.includes('KLong: changes of the whole session')),
    );
    if (hasDriver()) await screenshot('rewind/3-review');
    await vscode.commands.executeCommand('klong.stopSession');
    await until('the session to end', () => !ui.reproduce?.running, 60_000);
  });
});
