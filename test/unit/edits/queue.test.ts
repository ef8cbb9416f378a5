import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { DirUserFiles, EditQueue, type EditQueueOptions } from '../../../src/edits';
import type { AgentEventBody } from '../../../src/events/events';
import type { FileChange, Sandbox } from '../../../src/sandbox/sandbox';
import { DirSandbox } from '../../support/dir-sandbox';

/** The shared test DirSandbox, plus deleting a file and injecting a change from outside the workspace. */
class TestSandbox implements Sandbox {
  extraChanges: FileChange[] = [];
  private constructor(private readonly inner: DirSandbox) {}
  static async create(files: Record<string, string | Uint8Array>): Promise<TestSandbox> {
    const text = Object.fromEntries(Object.entries(files).filter(([, c]) => typeof c === 'string')) as Record<
      string,
      string
    >;
    const inner = await DirSandbox.create(text);
    for (const [p, c] of Object.entries(files)) if (typeof c !== 'string') await inner.writeFile(p, c);
    await inner.acceptIntoBaseline(Object.keys(files));
    return new TestSandbox(inner);
  }
  get workdir() {
    return this.inner.workdir;
  }
  exec: Sandbox['exec'] = (c, o) => this.inner.exec(c, o);
  readFile = (p: string) => this.inner.readFile(p);
  writeFile = (p: string, d: Uint8Array | string) => this.inner.writeFile(p, d);
  async remove(p: string) {
    await rm(this.inner.hostPath(p), { force: true });
  }
  changes = async () => [...this.extraChanges, ...(await this.inner.changes())];
  baselineFile = (p: string) => this.inner.baselineFile(p);
  revert = (p: string) => this.inner.revert(p);
  acceptIntoBaseline = (ps: string[]) => this.inner.acceptIntoBaseline(ps);
  dispose = () => this.inner.dispose();
}

const lines = (n: number, f = (i: number) => `line ${i}`) =>
  Array.from({ length: n }, (_, i) => `${f(i + 1)}\n`).join('');

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** The same files in the sandbox (work + baseline) and in the user's workspace directory. */
async function setup(files: Record<string, string | Uint8Array>, opts: Partial<EditQueueOptions> = {}) {
  const sandbox = await TestSandbox.create(files);
  const ws = await mkdtemp(join(tmpdir(), 'klong-ws-'));
  for (const [p, c] of Object.entries(files)) {
    await mkdir(join(ws, p, '..'), { recursive: true });
    await writeFile(join(ws, p), c);
  }
  cleanups.push(
    () => sandbox.dispose(),
    () => rm(ws, { recursive: true, force: true }),
  );
  const events: AgentEventBody[] = [];
  const feedback: string[] = [];
  const queue = new EditQueue({
    sandbox,
    user: new DirUserFiles(ws),
    emit: (e) => events.push(e),
    onFeedback: (t) => feedback.push(t),
    ...opts,
  });
  const user = async (p: string) => readFile(join(ws, p), 'utf8').catch(() => null);
  const box = async (p: string) => readFile(join(sandbox.workdir, p), 'utf8').catch(() => null);
  const base = async (p: string) => {
    const b = await sandbox.baselineFile(p);
    return b ? Buffer.from(b).toString('utf8') : null;
  };
  return { sandbox, ws, queue, events, feedback, user, box, base };
}

test('a change becomes a proposal with hunks and stats, and an edit_proposed event', async () => {
  const t = await setup({ 'src/a.py': lines(50) });
  await t.sandbox.writeFile('src/a.py', lines(50).replace('line 5\n', 'five\n').replace('line 40\n', ''));
  await t.sandbox.writeFile('new.txt', 'hello\n');
  const r = await t.queue.afterTool(1);
  assert.deepEqual(
    r.proposed.map((p) => [p.path, p.kind, p.hunks.length, p.stats.additions, p.stats.deletions]),
    [
      ['new.txt', 'add', 1, 1, 0],
      ['src/a.py', 'modify', 2, 1, 2],
    ],
  );
  assert.deepEqual(
    t.events.map((e) => e.type === 'edit_proposed' && [e.step, e.proposal.path, e.proposal.kind]),
    [
      [1, 'new.txt', 'add'],
      [1, 'src/a.py', 'modify'],
    ],
  );
  // Nothing reached the user yet (review mode).
  assert.equal(await t.user('src/a.py'), lines(50));
  assert.equal(await t.user('new.txt'), null);
});

test('a second change to the same file updates its proposal in place; an unchanged one is not re-proposed', async () => {
  const t = await setup({ 'a.txt': lines(10) });
  await t.sandbox.writeFile('a.txt', lines(10).replace('line 1\n', 'one\n'));
  const [first] = (await t.queue.afterTool(1)).proposed;
  assert.equal((await t.queue.afterTool(2)).proposed.length, 0);
  await t.sandbox.writeFile('a.txt', lines(10).replace('line 1\n', 'one\n').replace('line 9\n', 'nine\n'));
  const [second] = (await t.queue.afterTool(3)).proposed;
  assert.equal(t.queue.list().length, 1);
  assert.ok(second!.version > first!.version);
  assert.equal(second!.step, 3);
  assert.equal(second!.stats.additions, 2);
  // The agent undoing its own change removes the proposal.
  await t.sandbox.writeFile('a.txt', lines(10));
  await t.queue.afterTool(4);
  assert.equal(t.queue.list().length, 0);
  assert.deepEqual(t.events.at(-1), { type: 'edit_withdrawn', step: 4, path: 'a.txt' });
});

test('accept one hunk, reject another: workspace, container, baseline and the agent observation', async () => {
  const original = lines(100);
  const proposed = original.replace('line 10\n', 'line ten\n').replace('line 90\n', 'line ninety\n');
  const t = await setup({ 'm.py': original });
  await t.sandbox.writeFile('m.py', proposed);
  const [p] = (await t.queue.afterTool(1)).proposed;
  assert.equal(p!.hunks.length, 2);

  const a = await t.queue.accept('m.py', { hunks: [0], version: p!.version });
  assert.equal(a.status, 'accepted');
  assert.equal(await t.user('m.py'), original.replace('line 10\n', 'line ten\n'));
  assert.equal(await t.base('m.py'), original.replace('line 10\n', 'line ten\n'));
  assert.equal(await t.box('m.py'), proposed, 'the pending hunk stays in the container');
  const left = t.queue.get('m.py')!;
  assert.equal(left.hunks.length, 1);
  assert.ok(left.version > p!.version);

  const r = await t.queue.reject('m.py', { hunks: [0], version: left.version, reason: 'keep the old name' });
  assert.equal(r.status, 'rejected');
  assert.equal(await t.user('m.py'), original.replace('line 10\n', 'line ten\n'));
  assert.equal(
    await t.box('m.py'),
    original.replace('line 10\n', 'line ten\n'),
    'the rejected hunk is reverted',
  );
  assert.equal(t.queue.list().length, 0);
  assert.deepEqual(t.feedback, [
    'User rejected the remaining changes to m.py (line 90): keep the old name. They were reverted in the container; the changes the user accepted earlier stay.',
  ]);
  assert.deepEqual(
    t.events.filter((e) => e.type === 'edit_decided'),
    [
      { type: 'edit_decided', path: 'm.py', decision: 'accepted' },
      { type: 'edit_decided', path: 'm.py', decision: 'rejected', reason: 'keep the old name' },
    ],
  );
});

test('rejecting some hunks of several keeps the others and tells the agent which', async () => {
  const original = lines(100);
  const proposed = original
    .replace('line 10\n', 'A\n')
    .replace('line 50\n', 'B\n')
    .replace('line 90\n', 'C\n');
  const t = await setup({ 'f.txt': original });
  await t.sandbox.writeFile('f.txt', proposed);
  await t.queue.afterTool(1);
  const r = await t.queue.reject('f.txt', { hunks: [1] });
  assert.equal(r.status, 'rejected');
  assert.equal(await t.box('f.txt'), original.replace('line 10\n', 'A\n').replace('line 90\n', 'C\n'));
  assert.equal(t.queue.get('f.txt')!.hunks.length, 2);
  assert.deepEqual(t.feedback, [
    'User rejected 1 of 3 changes to f.txt (line 50). That change was reverted in the container; the other changes to the file are kept.',
  ]);
  assert.equal((await t.queue.accept('f.txt')).status, 'accepted');
  assert.equal(await t.user('f.txt'), original.replace('line 10\n', 'A\n').replace('line 90\n', 'C\n'));
  assert.equal(t.queue.list().length, 0);
  assert.deepEqual(await t.sandbox.changes(), [], 'container and baseline agree after the last decision');
});

test('three-way merge: the user edited the file elsewhere; accept keeps both', async () => {
  const original = lines(40);
  const t = await setup({ 'x.py': original });
  await t.sandbox.writeFile('x.py', original.replace('line 30\n', 'agent 30\n'));
  await t.queue.afterTool(1);
  await writeFile(join(t.ws, 'x.py'), original.replace('line 3\n', 'user 3\n'));
  const o = await t.queue.accept('x.py');
  assert.equal(o.status, 'accepted');
  assert.equal(o.status === 'accepted' && o.merged, true);
  assert.equal(
    await t.user('x.py'),
    original.replace('line 3\n', 'user 3\n').replace('line 30\n', 'agent 30\n'),
  );
});

test('three-way merge conflict: nothing is written unless the user chooses markers', async () => {
  const original = lines(10);
  const t = await setup({ 'c.txt': original });
  await t.sandbox.writeFile('c.txt', original.replace('line 5\n', 'agent 5\n'));
  await t.queue.afterTool(1);
  const mine = original.replace('line 5\n', 'user 5\n');
  await writeFile(join(t.ws, 'c.txt'), mine);
  const o = await t.queue.accept('c.txt');
  assert.equal(o.status, 'conflict');
  assert.match(o.message, /changed in your workspace.*1 change overlaps/);
  assert.equal(o.status === 'conflict' && o.merge?.conflicts.length, 1);
  assert.equal(await t.user('c.txt'), mine, 'the user text is untouched');
  assert.equal(t.queue.list().length, 1, 'the proposal stays pending');
  assert.equal(t.events.filter((e) => e.type === 'edit_decided').length, 0);

  const m = await t.queue.accept('c.txt', { onConflict: 'markers' });
  assert.equal(m.status === 'accepted' && m.markers, true);
  const text = (await t.user('c.txt'))!;
  assert.ok(
    text.includes('<<<<<<< yours (workspace)\nuser 5\n||||||| base\nline 5\n=======\nagent 5\n>>>>>>>'),
  );
});

test('CRLF: the user file keeps CRLF although the agent wrote LF', async () => {
  const crlf = 'a\r\nb\r\nc\r\n';
  const t = await setup({ 'w.txt': crlf });
  await t.sandbox.writeFile('w.txt', 'a\nB\nc\n');
  const [p] = (await t.queue.afterTool(1)).proposed;
  assert.equal(p!.hunks.length, 1, 'line endings alone are not a change');
  assert.equal(p!.stats.additions, 1);
  assert.equal((await t.queue.accept('w.txt')).status, 'accepted');
  assert.equal(await t.user('w.txt'), 'a\r\nB\r\nc\r\n');
});

test('CRLF + per-hunk: the user CRLF file gets one hunk in CRLF; the container keeps its LF', async () => {
  const t = await setup({ 'w.txt': lines(30).replace(/\n/g, '\r\n') });
  await t.sandbox.writeFile('w.txt', lines(30).replace('line 2\n', 'two\n').replace('line 28\n', 'x\n'));
  await t.queue.afterTool(1);
  assert.equal((await t.queue.accept('w.txt', { hunks: [1] })).status, 'accepted');
  assert.equal(await t.user('w.txt'), lines(30).replace('line 28\n', 'x\n').replace(/\n/g, '\r\n'));
  assert.equal(await t.box('w.txt'), lines(30).replace('line 2\n', 'two\n').replace('line 28\n', 'x\n'));
});

test('no trailing newline: accepted exactly as proposed', async () => {
  const t = await setup({ 'n.txt': 'a\nb' });
  await t.sandbox.writeFile('n.txt', 'a\nb\nc');
  await t.queue.afterTool(1);
  assert.equal((await t.queue.accept('n.txt')).status, 'accepted');
  assert.equal(await t.user('n.txt'), 'a\nb\nc');
});

test('rename: a delete + an add with equal content is one proposal; accept moves the user file with the user edits', async () => {
  const t = await setup({ 'old/name.py': lines(5), 'other.txt': 'x\n' });
  await t.sandbox.writeFile('new/name.py', lines(5));
  await t.sandbox.remove('old/name.py');
  const proposed = (await t.queue.afterTool(1)).proposed;
  assert.deepEqual(
    proposed.map((p) => [p.path, p.renamedFrom, p.hunks.length]),
    [['new/name.py', 'old/name.py', 0]],
  );
  const ev = t.events.find((e) => e.type === 'edit_proposed');
  assert.equal(ev?.type === 'edit_proposed' && ev.proposal.renamedFrom, 'old/name.py');
  await writeFile(join(t.ws, 'old/name.py'), lines(5).replace('line 1', 'user edit'));
  assert.equal((await t.queue.accept('new/name.py')).status, 'accepted');
  assert.equal(await t.user('old/name.py'), null);
  assert.equal(await t.user('new/name.py'), lines(5).replace('line 1', 'user edit'));
  assert.deepEqual(await t.sandbox.changes(), []);
});

test('rename rejected: both files restored in the container and the agent told so', async () => {
  const t = await setup({ 'a.txt': 'same\n' });
  await t.sandbox.writeFile('b.txt', 'same\n');
  await t.sandbox.remove('a.txt');
  await t.queue.afterTool(1);
  await t.queue.reject('b.txt', { reason: 'keep the name' });
  assert.equal(await t.box('a.txt'), 'same\n');
  assert.equal(await t.box('b.txt'), null);
  assert.deepEqual(t.feedback, [
    'User rejected renaming a.txt to b.txt: keep the name. Both files were restored in the container.',
  ]);
});

test('binary: whole-file only with a clear note; accept writes the bytes; a user change is a conflict', async () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2, 3]);
  const t = await setup({ 'img.png': png });
  await t.sandbox.writeFile('img.png', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 9, 9]));
  const [p] = (await t.queue.afterTool(1)).proposed;
  assert.equal(p!.kind, 'binary');
  assert.equal(p!.wholeFileOnly, true);
  assert.equal(p!.hunks.length, 0);
  assert.match(
    p!.note!,
    /Binary file \(9 B → 7 B\): no text diff is shown\. Accept or reject the whole file\./,
  );
  await writeFile(join(t.ws, 'img.png'), new Uint8Array([1, 0, 1]));
  const c = await t.queue.accept('img.png');
  assert.equal(c.status, 'conflict');
  assert.deepEqual([...(await readFile(join(t.ws, 'img.png')))], [1, 0, 1]);
  assert.equal((await t.queue.accept('img.png', { onConflict: 'overwrite' })).status, 'accepted');
  assert.deepEqual([...(await readFile(join(t.ws, 'img.png')))], [0x89, 0x50, 0x4e, 0x47, 0, 9, 9]);
});

test('huge file (> limit): no text diff, whole-file accept', async () => {
  const t = await setup({}, { hugeBytes: 1000 });
  const big = lines(500);
  await t.sandbox.writeFile('data.csv', big);
  const [p] = (await t.queue.afterTool(1)).proposed;
  assert.equal(p!.kind, 'binary');
  assert.equal(p!.after, null);
  assert.match(p!.note!, /^Large file \(over 5\.0 MB\)/);
  assert.equal((await t.queue.accept('data.csv')).status, 'accepted');
  assert.equal(await t.user('data.csv'), big);
});

test('delete: accept removes the user file; if the user changed it, a conflict keeps it', async () => {
  const t = await setup({ 'gone.txt': 'bye\n', 'kept.txt': 'mine\n' });
  await t.sandbox.remove('gone.txt');
  await t.sandbox.remove('kept.txt');
  const proposed = (await t.queue.afterTool(1)).proposed;
  assert.deepEqual(
    proposed.map((p) => [p.path, p.kind, p.stats.deletions]),
    [
      ['gone.txt', 'delete', 1],
      ['kept.txt', 'delete', 1],
    ],
  );
  await writeFile(join(t.ws, 'kept.txt'), 'mine, edited\n');
  assert.equal((await t.queue.accept('gone.txt')).status, 'accepted');
  assert.equal(await t.user('gone.txt'), null);
  const c = await t.queue.accept('kept.txt');
  assert.equal(c.status, 'conflict');
  assert.equal(await t.user('kept.txt'), 'mine, edited\n');
  await t.queue.reject('kept.txt');
  assert.equal(await t.box('kept.txt'), 'mine\n', 'rejecting a delete restores the file in the container');
  assert.match(
    t.feedback[0]!,
    /^User rejected the edit to kept\.txt\. The file was restored in the container\.$/,
  );
});

test('paths outside the workspace are refused with a warning, the rest still proposed', async () => {
  const warnings: string[] = [];
  const t = await setup({}, { onWarning: (w) => warnings.push(w) });
  t.sandbox.extraChanges = [{ path: '../etc/passwd', kind: 'modified', binary: false, size: 3 }];
  await t.sandbox.writeFile('ok.txt', 'ok\n');
  const r = await t.queue.afterTool(1);
  assert.deepEqual(
    r.proposed.map((p) => p.path),
    ['ok.txt'],
  );
  assert.match(
    warnings[0]!,
    /Refused a change outside the workspace: Path escapes the workspace: \.\.\/etc\/passwd/,
  );
});

test('DirUserFiles refuses a symlink that leads outside the workspace', async () => {
  const outside = await mkdtemp(join(tmpdir(), 'klong-out-'));
  const t = await setup({ 'a.txt': 'a\n' });
  cleanups.push(() => rm(outside, { recursive: true, force: true }));
  await symlink(outside, join(t.ws, 'link'));
  await t.sandbox.writeFile('link/evil.txt', 'x\n');
  await t.queue.afterTool(1);
  const o = await t.queue.accept('link/evil.txt');
  assert.equal(o.status, 'error');
  assert.match(o.message, /outside the workspace through a symbolic link/);
  assert.equal(await readFile(join(outside, 'evil.txt'), 'utf8').catch(() => null), null);
});

test('a decision on an old version is stale and changes nothing', async () => {
  const t = await setup({ 'a.txt': lines(5) });
  await t.sandbox.writeFile('a.txt', lines(5).replace('line 1', 'one'));
  const [p] = (await t.queue.afterTool(1)).proposed;
  await t.sandbox.writeFile('a.txt', lines(5).replace('line 1', 'uno'));
  const o = await t.queue.accept('a.txt', { version: p!.version });
  assert.equal(o.status, 'stale');
  assert.equal(await t.user('a.txt'), lines(5));
  assert.equal(t.queue.get('a.txt')!.after, lines(5).replace('line 1', 'uno'));
  assert.equal((await t.queue.accept('nope.txt')).status, 'not-found');
});

test('auto-accept applies every change at once', async () => {
  const t = await setup({ 'a.txt': 'a\n' }, { mode: 'auto-accept' });
  await t.sandbox.writeFile('a.txt', 'b\n');
  await t.sandbox.writeFile('n.txt', 'new\n');
  const r = await t.queue.afterTool(1);
  assert.deepEqual(
    r.outcomes.map((o) => o.status),
    ['accepted', 'accepted'],
  );
  assert.equal(await t.user('a.txt'), 'b\n');
  assert.equal(await t.user('n.txt'), 'new\n');
  assert.equal(t.queue.list().length, 0);
});

test('ask-each waits for the decision function; undefined leaves it queued', async () => {
  const asked: string[] = [];
  const t = await setup(
    { 'a.txt': 'a\n', 'b.txt': 'b\n', 'c.txt': 'c\n' },
    {
      mode: 'ask-each',
      decide: async (p) => {
        asked.push(p.path);
        await new Promise((r) => setTimeout(r, 5));
        if (p.path === 'a.txt') return { decision: 'accept' };
        if (p.path === 'b.txt') return { decision: 'reject', reason: 'no' };
        return undefined;
      },
    },
  );
  for (const f of ['a.txt', 'b.txt', 'c.txt']) await t.sandbox.writeFile(f, `${f} changed\n`);
  const r = await t.queue.afterTool(1);
  assert.deepEqual(asked, ['a.txt', 'b.txt', 'c.txt']);
  assert.deepEqual(
    r.outcomes.map((o) => [o.path, o.status]),
    [
      ['a.txt', 'accepted'],
      ['b.txt', 'rejected'],
    ],
  );
  assert.equal(await t.user('a.txt'), 'a.txt changed\n');
  assert.equal(await t.box('b.txt'), 'b\n');
  assert.deepEqual(
    t.queue.list().map((p) => p.path),
    ['c.txt'],
  );
  assert.deepEqual(t.feedback, [
    'User rejected the edit to b.txt: no. The file was reverted in the container.',
  ]);
});

test('without onFeedback the observations wait for takeFeedback(); rejectAll covers every file', async () => {
  const t = await setup({ 'a.txt': 'a\n', 'b.txt': 'b\n' }, { onFeedback: undefined });
  await t.sandbox.writeFile('a.txt', 'A\n');
  await t.sandbox.writeFile('c.txt', 'C\n');
  await t.queue.afterTool(1);
  const out = await t.queue.rejectAll('wrong approach');
  assert.deepEqual(
    out.map((o) => o.status),
    ['rejected', 'rejected'],
  );
  assert.deepEqual(t.queue.takeFeedback(), [
    'User rejected the edit to a.txt: wrong approach. The file was reverted in the container.',
    'User rejected the edit to c.txt: wrong approach. The file was removed from the container.',
  ]);
  assert.deepEqual(t.queue.takeFeedback(), []);
  assert.deepEqual(await t.sandbox.changes(), []);
});

test('acceptAll; a listener hears every change of the list', async () => {
  const t = await setup({ 'a.txt': 'a\n' });
  let heard = 0;
  t.queue.onDidChange(() => heard++);
  await t.sandbox.writeFile('a.txt', 'A\n');
  await t.sandbox.writeFile('d/new.txt', 'N\n');
  await t.queue.afterTool(1);
  const before = heard;
  const out = await t.queue.acceptAll();
  assert.deepEqual(
    out.map((o) => o.status),
    ['accepted', 'accepted'],
  );
  assert.equal(await t.user('d/new.txt'), 'N\n');
  assert.ok(before >= 1 && heard >= before + 2);
});

test('hook(): ask-each waits through whileWaiting and gives up when the session stops', async () => {
  let release: (() => void) | undefined;
  const t = await setup(
    { 'a.txt': 'a\n' },
    {
      mode: 'ask-each',
      decide: () =>
        new Promise((resolve) => {
          release = () => resolve({ decision: 'accept' });
        }),
    },
  );
  await t.sandbox.writeFile('a.txt', 'A\n');
  const waited: string[] = [];
  const ctrl = new AbortController();
  const hook = t.queue.hook();
  const done = hook({
    step: 1,
    signal: ctrl.signal,
    whileWaiting: async (p) => {
      waited.push('start');
      try {
        return await p;
      } finally {
        waited.push('end');
      }
    },
  });
  while (!release) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(waited, ['start']);
  ctrl.abort();
  await done;
  assert.deepEqual(waited, ['start', 'end']);
  assert.equal(await t.user('a.txt'), 'a\n', 'no decision was taken after the stop');
  assert.equal(t.queue.list().length, 1);
});

test('ask-each: a prompt that throws leaves the proposal queued and the agent going', async () => {
  const warnings: string[] = [];
  const t = await setup(
    { 'a.txt': 'a\n' },
    {
      mode: 'ask-each',
      decide: async () => {
        throw new Error('DialogService: refused to show dialog in tests');
      },
      onWarning: (w) => warnings.push(w),
    },
  );
  await t.sandbox.writeFile('a.txt', 'A\n');
  const r = await t.queue.afterTool(1);
  assert.deepEqual(r.outcomes, []);
  assert.deepEqual(
    t.queue.list().map((p) => p.path),
    ['a.txt'],
  );
  assert.match(
    warnings[0]!,
    /Could not ask about a\.txt \(DialogService: refused.*\); it stays in the queue\./,
  );
});

test('huge file deleted: a whole-file proposal; accept deletes the unchanged user copy', async () => {
  const big = lines(400);
  const t = await setup({ 'data/big.csv': big }, { hugeBytes: 1000 });
  await t.sandbox.remove('data/big.csv');
  const [p] = (await t.queue.afterTool(1)).proposed;
  assert.deepEqual([p!.kind, p!.wholeFileOnly, p!.hunks.length], ['delete', true, 0]);
  assert.match(
    p!.note!,
    /^Large file .*deleted, was .*: no text diff is shown\. Accept or reject the whole file\./,
  );
  assert.equal((await t.queue.accept('data/big.csv')).status, 'accepted');
  assert.equal(await t.user('data/big.csv'), null);
  assert.deepEqual(await t.sandbox.changes(), []);
});

test('an unreadable change is skipped with a warning, the others still proposed; empty new files work', async () => {
  const warnings: string[] = [];
  const t = await setup({ 'a.txt': 'a\n' }, { onWarning: (w) => warnings.push(w) });
  // Listed as changed but gone by the time it is read (the agent removed it meanwhile).
  t.sandbox.extraChanges = [{ path: 'ghost.txt', kind: 'modified', binary: false, size: 3 }];
  await t.sandbox.writeFile('empty.txt', '');
  await t.sandbox.writeFile('a.txt', 'A\n');
  const r = await t.queue.afterTool(1);
  assert.deepEqual(
    r.proposed.map((p) => [p.path, p.kind, p.hunks.length]),
    [
      ['a.txt', 'modify', 1],
      ['empty.txt', 'add', 0],
    ],
  );
  assert.match(warnings.join('\n'), /Could not read the agent's change to ghost\.txt: ENOENT/);
  assert.equal((await t.queue.accept('empty.txt')).status, 'accepted');
  assert.equal(await t.user('empty.txt'), '');
});

test('look-alike changes are re-read a few per tool call, in turns; a decision always re-reads', async () => {
  const files = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`f${i}.txt`, `v${i}\n`]));
  const t = await setup(files, { recheckPerScan: 2 });
  for (const f of Object.keys(files)) await t.sandbox.writeFile(f, `${f} 1\n`);
  let reads = 0;
  const read = t.sandbox.readFile;
  t.sandbox.readFile = (p: string) => {
    reads++;
    return read(p);
  };
  assert.equal((await t.queue.afterTool(1)).proposed.length, 6);
  assert.equal(reads, 6, 'new changes are all read');
  reads = 0;
  assert.equal((await t.queue.afterTool(2)).proposed.length, 0);
  assert.equal(reads, 2, 'only two look-alikes re-read');
  // Same size, new content: found within a full turn of re-reads.
  await t.sandbox.writeFile('f5.txt', 'f5.txt 2\n');
  const seen: string[] = [];
  for (let step = 3; step < 6; step++)
    for (const p of (await t.queue.afterTool(step)).proposed) seen.push(p.path);
  assert.deepEqual(seen, ['f5.txt']);
  // A decision re-reads its file even between turns.
  await t.sandbox.writeFile('f0.txt', 'f0.txt 9\n');
  const o = await t.queue.accept('f0.txt', { version: t.queue.get('f0.txt')!.version });
  assert.equal(o.status, 'stale', 'the user saw the older content');
  assert.equal(t.queue.get('f0.txt')!.after, 'f0.txt 9\n');
});
