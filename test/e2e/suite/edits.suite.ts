/**
 * Proposed edits in a real VS Code: the extension's EditsController with an EditQueue over a
 * test sandbox (a temp directory standing in for the container). The agent's side is a scripted
 * session writing into the sandbox and running the queue's after-tool hook; the user's side is
 * the real workbench: diff editor, CodeLens, InputBox, notifications, WorkspaceEdit + undo.
 */
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { AgentSession } from '../../../src/agent/loop';
import { EditQueue } from '../../../src/edits/queue';
import type { AgentEventBody } from '../../../src/events/events';
import type { EditsController } from '../../../src/ui/edits/controller';
import { startHarness } from '../../support/agent-harness';
import { DirSandbox } from '../../support/dir-sandbox';
import { type ChatBody, call, tools } from '../../support/model-server';
import { hasDriver, screenshot, until, view } from './driver';

const lines = (n: number, f = (i: number) => `value_${i} = ${i}`) =>
  Array.from({ length: n }, (_, i) => `${f(i + 1)}\n`).join('');
const ORIGINAL = lines(30);
/** Three separate hunks: lines 2, 14 and 27. */
const PROPOSED = ORIGINAL.replace('value_2 = 2\n', 'value_2 = 2 * scale\n')
  .replace('value_14 = 14\n', 'value_14 = compute(14)\n')
  .replace('value_27 = 27\n', 'value_27 = 27\nlog(value_27)\n');

const isProposalDiff = (tab: vscode.Tab, path: string) =>
  tab.input instanceof vscode.TabInputTextDiff &&
  tab.input.modified.scheme === 'klong-proposal' &&
  tab.input.modified.path === `/${path}`;

function diffTabOpen(path: string): boolean {
  return vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => isProposalDiff(t, path)));
}

describe('proposed edits', function () {
  this.timeout(120_000);
  let edits: EditsController;
  let folder: vscode.Uri;
  let sandbox: DirSandbox;
  let queue: EditQueue;
  const feedback: string[] = [];
  const events: AgentEventBody[] = [];
  let step = 0;
  const ws = (p: string) => join(folder.fsPath, p);

  /** The scripted agent: one tool call writing files in the sandbox, then the loop's after-tool hook. */
  async function agentWrites(files: Record<string, string | Uint8Array>) {
    for (const [p, c] of Object.entries(files)) await sandbox.writeFile(p, c);
    return queue.afterTool(++step);
  }

  before(async () => {
    const ext = vscode.extensions.getExtension('klong-dev.klong');
    assert.ok(ext, 'extension klong-dev.klong is not loaded');
    const api = (await ext.activate()) as { ui?: { edits?: EditsController } } | undefined;
    assert.ok(api?.ui?.edits, 'the extension does not expose ui.edits to tests (src/ui/register.ts)');
    edits = api.ui.edits;
    folder = vscode.workspace.workspaceFolders![0]!.uri;
    writeFileSync(ws('model.py'), ORIGINAL);
    sandbox = await DirSandbox.create({ 'model.py': ORIGINAL });
    await vscode.workspace.getConfiguration().update('klong.edits.approvalMode', 'review', true);
    await vscode.workspace.getConfiguration('diffEditor').update('codeLens', true, true);
    queue = new EditQueue({
      sandbox,
      emit: (e) => events.push(e),
      onFeedback: (t) => feedback.push(t),
      ...edits.queueHooks(),
    });
    edits.setQueue(queue);
  });

  after(async () => {
    edits?.setQueue(undefined);
    await sandbox?.dispose();
  });

  it('proposes the agent change as a diff with a CodeLens per hunk; the workspace is untouched', async () => {
    const r = await agentWrites({ 'model.py': PROPOSED });
    assert.deepEqual(
      r.proposed.map((p) => [p.path, p.kind, p.hunks.length]),
      [['model.py', 'modify', 3]],
    );
    assert.equal(readFileSync(ws('model.py'), 'utf8'), ORIGINAL);
    await edits.open('model.py');
    await until('the proposal diff tab', () => diffTabOpen('model.py'));
    const right = vscode.Uri.from({ scheme: 'klong-proposal', path: '/model.py' });
    assert.equal((await vscode.workspace.openTextDocument(right)).getText(), PROPOSED);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
      'vscode.executeCodeLensProvider',
      right,
    );
    const hunkLenses = lenses.filter((l) => l.command?.command === 'klong.acceptHunk');
    assert.deepEqual(
      hunkLenses.map((l) => l.range.start.line),
      [1, 13, 27],
      'one Accept lens above each changed line',
    );
    if (hasDriver()) {
      await view('workbench').waitFor('.monaco-diff-editor .codelens-decoration a', {
        text: 'Accept change',
      });
      await screenshot('edits-diff-with-codelens');
    }
  });

  it('accepts one hunk and rejects another: workspace file, container and the agent observation', async () => {
    const p = queue.get('model.py')!;
    if (hasDriver()) {
      // Click the first hunk's "Accept change" lens in the diff's right side.
      await view('workbench').click('.monaco-diff-editor .codelens-decoration a:has-text("Accept change")');
    } else {
      await vscode.commands.executeCommand('klong.acceptHunk', 'model.py', 0, p.version);
    }
    const afterAccept = ORIGINAL.replace('value_2 = 2\n', 'value_2 = 2 * scale\n');
    await until('the accepted hunk on disk', () => readFileSync(ws('model.py'), 'utf8') === afterAccept);
    const left = await until('two hunks left', () =>
      queue.get('model.py')?.hunks.length === 2 ? queue.get('model.py') : undefined,
    );

    // Reject the change at line 14 with a reason typed into the real InputBox (an argument without a driver).
    const reason = 'keep value_14 a constant';
    if (hasDriver()) {
      const rejecting = vscode.commands.executeCommand('klong.rejectHunk', 'model.py', 0, left!.version);
      await view('workbench').fill('.quick-input-widget input', reason);
      await view('workbench').press('.quick-input-widget input', 'Enter');
      await rejecting;
    } else {
      await vscode.commands.executeCommand('klong.rejectHunk', 'model.py', 0, left!.version, reason);
    }
    await until('the rejection feedback', () => feedback.length === 1);
    assert.equal(
      feedback[0],
      'User rejected 1 of 2 changes to model.py (line 14): keep value_14 a constant. That change was reverted in the container; the other changes to the file are kept.',
    );
    assert.equal(
      readFileSync(ws('model.py'), 'utf8'),
      afterAccept,
      'the workspace has only the accepted hunk',
    );
    assert.equal(
      readFileSync(join(sandbox.workdir, 'model.py'), 'utf8'),
      afterAccept.replace('value_27 = 27\n', 'value_27 = 27\nlog(value_27)\n'),
      'the container keeps the pending hunk and lost the rejected one',
    );
    assert.equal(queue.get('model.py')?.hunks.length, 1);
    assert.deepEqual(
      events.filter((e) => e.type === 'edit_decided').map((e) => e.type === 'edit_decided' && e.decision),
      ['accepted', 'rejected'],
    );
    // The last hunk via the file-level command: the proposal is resolved and its diff tab closes.
    await vscode.commands.executeCommand('klong.acceptProposal', 'model.py', queue.get('model.py')!.version);
    assert.equal(
      readFileSync(ws('model.py'), 'utf8'),
      readFileSync(join(sandbox.workdir, 'model.py'), 'utf8'),
    );
    assert.deepEqual(await sandbox.changes(), []);
    await until('the decided diff tab to close', () => !diffTabOpen('model.py'));
  });

  it('merges into an unsaved editor through an undoable WorkspaceEdit', async () => {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder, 'model.py'));
    const editor = await vscode.window.showTextDocument(doc);
    const saved = doc.getText();
    assert.ok(
      await editor.edit((b) => b.insert(new vscode.Position(0, 0), '# user note\n')),
      'the user edit applied',
    );
    // The dirty flag reaches the extension host after the edit itself does.
    await until('the editor unsaved', () => doc.isDirty);
    await agentWrites({ 'model.py': saved.replace('value_20 = 20\n', 'value_20 = 20.5\n') });
    await vscode.commands.executeCommand('klong.acceptProposal', 'model.py');
    assert.equal(doc.getText(), `# user note\n${saved.replace('value_20 = 20\n', 'value_20 = 20.5\n')}`);
    assert.ok(doc.isDirty, 'an unsaved editor stays unsaved');
    assert.equal(readFileSync(ws('model.py'), 'utf8'), saved, 'nothing was written behind the editor');
    // Undo acts on the focused editor: on a loaded machine focus can lag behind showTextDocument.
    await vscode.window.showTextDocument(doc);
    await until('the editor focused', () => vscode.window.activeTextEditor?.document === doc);
    await vscode.commands.executeCommand('undo');
    await until('Undo takes back the agent change only', () => doc.getText() === `# user note\n${saved}`);
    await vscode.commands.executeCommand('workbench.action.files.revert');
    assert.equal(doc.getText(), saved);
  });

  it('a conflicting change is reported and never overwrites the user text', async () => {
    const base = lines(12, (i) => `lr_${i} = 0.${i}`);
    writeFileSync(ws('train.py'), base);
    await sandbox.writeFile('train.py', base);
    await sandbox.acceptIntoBaseline(['train.py']);
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder, 'train.py'));
    const editor = await vscode.window.showTextDocument(doc);
    assert.ok(
      await editor.edit((b) => b.replace(doc.lineAt(4).range, 'lr_5 = 0.5  # mine')),
      'the user edit applied',
    );
    await until('the editor unsaved', () => doc.isDirty);
    const mine = doc.getText();
    const theirs = base.replace('lr_5 = 0.5\n', 'lr_5 = 0.05\n');
    await agentWrites({ 'train.py': theirs });
    await vscode.commands.executeCommand('klong.acceptProposal', 'train.py');
    assert.equal(doc.getText(), mine, 'the user text is untouched');
    assert.ok(queue.get('train.py'), 'the proposal is still pending');
    if (hasDriver()) {
      await view('workbench').waitFor('.notification-toast', { text: 'changed in your workspace' });
      await screenshot('edits-conflict-notification');
      await view('workbench').click('.notification-toast .monaco-button:has-text("Insert conflict markers")');
      await until('conflict markers in the editor', () =>
        doc.getText().includes('<<<<<<< yours (workspace)'),
      );
      assert.ok(
        doc.getText().includes('lr_5 = 0.5  # mine\n||||||| base\nlr_5 = 0.5\n=======\nlr_5 = 0.05\n>>>>>>>'),
      );
      await until('the proposal accepted with markers to resolve', () => queue.get('train.py') === undefined);
      await vscode.window.showTextDocument(doc);
      await until('the editor focused', () => vscode.window.activeTextEditor?.document === doc);
      await vscode.commands.executeCommand('undo');
      await until('Undo removes the markers', () => doc.getText() === mine);
    } else {
      await vscode.commands.executeCommand(
        'klong.rejectProposal',
        'train.py',
        undefined,
        'conflicts with my edit',
      );
      assert.equal(
        readFileSync(join(sandbox.workdir, 'train.py'), 'utf8'),
        base,
        'rejected: container reverted',
      );
      assert.equal(doc.getText(), mine);
    }
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  it('the editor-title ✓ of the diff accepts the file shown (menu arguments)', async () => {
    const before = 'alpha = 1\nbeta = 2\n';
    writeFileSync(ws('title.py'), before);
    await sandbox.writeFile('title.py', before);
    await sandbox.acceptIntoBaseline(['title.py']);
    await agentWrites({ 'title.py': 'alpha = 1\nbeta = 3\n' });
    await edits.open('title.py', false);
    await until('the diff tab', () => diffTabOpen('title.py'));
    const right = vscode.Uri.from({ scheme: 'klong-proposal', path: '/title.py' });
    if (hasDriver()) {
      await view('workbench').click('.editor-actions a.action-label[aria-label^="Accept proposed edit"]');
    } else {
      // What VS Code passes from an editor/title menu: the resource, then the editor's place.
      await vscode.commands.executeCommand('klong.acceptProposal', right, { groupId: 1, editorIndex: 0 });
    }
    await until('the accepted file', () => readFileSync(ws('title.py'), 'utf8') === 'alpha = 1\nbeta = 3\n');
    // The file is written before the queue records the decision; both must happen.
    await until('the proposal decided', () => queue.get('title.py') === undefined);
  });

  it('binary files are whole-file proposals with a clear note; the approval switch sets auto-accept', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    await agentWrites({ 'plots/loss.png': png });
    await edits.open('plots/loss.png');
    const noteDoc = await vscode.workspace.openTextDocument(
      vscode.Uri.from({ scheme: 'klong-proposal', path: '/plots/loss.png' }),
    );
    assert.match(
      noteDoc.getText(),
      /^Binary file \(new, 12 B\): no text diff is shown\. Accept or reject the whole file\./,
    );
    await vscode.commands.executeCommand('klong.acceptProposal', 'plots/loss.png');
    assert.equal(queue.get('plots/loss.png'), undefined, 'the binary proposal is decided');
    assert.deepEqual([...readFileSync(ws('plots/loss.png'))], [...png]);

    await vscode.commands.executeCommand('klong.setApprovalMode', 'auto-accept');
    assert.equal(vscode.workspace.getConfiguration().get('klong.edits.approvalMode'), 'auto-accept');
    assert.equal(queue.mode, 'auto-accept');
    const r = await agentWrites({ 'notes/README.md': '# results\n' });
    assert.deepEqual(
      r.outcomes.map((o) => o.status),
      ['accepted'],
    );
    await until('the auto-accepted file', () => {
      try {
        return readFileSync(ws('notes/README.md'), 'utf8') === '# results\n';
      } catch {
        return false;
      }
    });
    await vscode.commands.executeCommand('klong.setApprovalMode', 'review');
    if (hasDriver()) await screenshot('edits-after-auto-accept');
  });

  /**
   * A real agent session (AgentSession + scripted OpenAI-compatible server over HTTP) whose
   * after-tool hook is a fresh queue attached to the extension's controller. The script holds the
   * agent's second request until the user has decided, so the third request is "the next one".
   */
  async function agentSession(file: string, before: string, after: string, mode: 'review' | 'ask-each') {
    writeFileSync(ws(file), before);
    const sb = await DirSandbox.create({ [file]: before });
    let session: AgentSession | undefined;
    await vscode.commands.executeCommand('klong.setApprovalMode', mode);
    const q = new EditQueue({
      sandbox: sb,
      onFeedback: (t) => session!.injectUserMessage(t),
      ...edits.queueHooks(),
    });
    edits.setQueue(q);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const h = await startHarness({
      sandbox: sb,
      script: [
        tools(call('write_file', { path: file, content: after })),
        async () => {
          await gate;
          return tools(call('bash', { command: 'true' }));
        },
        tools(call('end_task', { summary: 'done' })),
      ],
      deps: { afterTool: q.hook() },
      // The second request is held while the user reviews: no stall retry meanwhile.
      client: { stallTimeoutMs: 120_000 },
    });
    session = h.session;
    const run = h.session.run();
    const close = async () => {
      release();
      h.session.stop('interrupt');
      await run.catch(() => undefined);
      await h.close();
      await sb.dispose();
      edits.setQueue(queue);
      await vscode.commands.executeCommand('klong.setApprovalMode', 'review');
    };
    return { q, h, sb, run, release, close };
  }

  const lastUser = (req: ChatBody) =>
    [...req.messages].reverse().find((m) => m.role === 'user')?.content ?? '';

  it('a real agent session: accept one hunk and reject another in the diff; the next model request carries the rejection', async () => {
    const before = lines(24, (i) => `epochs_${i} = ${i}`);
    const after = before
      .replace('epochs_3 = 3\n', 'epochs_3 = 30\n')
      .replace('epochs_20 = 20\n', 'epochs_20 = 200\n');
    const s = await agentSession('agent.py', before, after, 'review');
    try {
      const p = (await until('the agent proposal', () => s.q.get('agent.py')).catch((err) => {
        throw new Error(`${err.message}; agent events: ${JSON.stringify(s.h.events).slice(0, 1500)}`);
      }))!;
      assert.equal(p.hunks.length, 2);
      await edits.open('agent.py');
      await until('the diff tab', () => diffTabOpen('agent.py'));
      if (hasDriver()) {
        await view('workbench').waitFor('.monaco-diff-editor .codelens-decoration a', {
          text: 'Accept change',
        });
        await view('workbench').click('.monaco-diff-editor .codelens-decoration a:has-text("Accept change")');
      } else {
        await vscode.commands.executeCommand('klong.acceptHunk', 'agent.py', 0, p.version);
      }
      const accepted = before.replace('epochs_3 = 3\n', 'epochs_3 = 30\n');
      await until('the accepted hunk on disk', () => readFileSync(ws('agent.py'), 'utf8') === accepted);
      const left = await until('one hunk left', () =>
        s.q.get('agent.py')?.hunks.length === 1 ? s.q.get('agent.py') : undefined,
      );
      const reason = '200 epochs will not fit the time budget';
      if (hasDriver()) {
        const rejecting = vscode.commands.executeCommand('klong.rejectProposal', 'agent.py', left!.version);
        await view('workbench').fill('.quick-input-widget input', reason);
        await view('workbench').press('.quick-input-widget input', 'Enter');
        await rejecting;
      } else {
        await vscode.commands.executeCommand('klong.rejectProposal', 'agent.py', left!.version, reason);
      }
      assert.equal(
        readFileSync(join(s.sb.workdir, 'agent.py'), 'utf8'),
        accepted,
        'container reverted to what was accepted',
      );
      s.release();
      assert.deepEqual(await s.run, { status: 'done', reason: 'end_task', summary: 'done' });
      assert.equal(s.h.server.requests.length, 3, 'one request per step, no retry');
      const [, second, third] = s.h.server.requests;
      assert.ok(!JSON.stringify(second).includes('User rejected'));
      assert.equal(
        lastUser(third!),
        'User rejected the remaining changes to agent.py (line 20): 200 epochs will not fit the time budget. They were reverted in the container; the changes the user accepted earlier stay.',
      );
      assert.equal(readFileSync(ws('agent.py'), 'utf8'), accepted);
    } finally {
      await s.close();
    }
  });

  it('ask-each: the agent waits for the prompt; Reject… with a reason is its next request', async function () {
    if (!hasDriver()) this.skip();
    const before = 'batch_size = 32\n';
    const s = await agentSession('config.py', before, 'batch_size = 4096\n', 'ask-each');
    try {
      // VS Code refuses modal dialogs under test, so here the prompt falls back to a notification.
      await view('workbench')
        .waitFor('.notification-toast', { text: 'KLong proposes an edit to config.py' })
        .catch((err) => {
          const state = { mode: s.q.mode, pending: s.q.list().map((p) => p.path), events: s.h.events };
          throw new Error(`${err.message}; ${JSON.stringify(state).slice(0, 1500)}`);
        });
      await screenshot('edits-ask-each-prompt');
      assert.equal(s.h.server.requests.length, 1, 'the agent is waiting: no new request before the answer');
      await view('workbench').click('.notification-toast .monaco-button:has-text("Reject")');
      await view('workbench').fill('.quick-input-widget input', 'too large for one GPU');
      await view('workbench').press('.quick-input-widget input', 'Enter');
      await until('the second request', () => s.h.server.requests.length >= 2);
      assert.equal(
        lastUser(s.h.server.requests[1]!),
        'User rejected the edit to config.py: too large for one GPU. The file was reverted in the container.',
      );
      assert.equal(readFileSync(join(s.sb.workdir, 'config.py'), 'utf8'), before);
      assert.equal(readFileSync(ws('config.py'), 'utf8'), before);
    } finally {
      await s.close();
    }
  });
});
