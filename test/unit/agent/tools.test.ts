import assert from 'node:assert/strict';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultTools, type PaperReader, runToolCall, type ToolContext } from '../../../src/agent/tools';
import { workspacePath } from '../../../src/agent/tools/files';
import { DirSandbox } from '../../support/dir-sandbox';

const sandboxes: DirSandbox[] = [];
after(async () => {
  await Promise.all(sandboxes.map((s) => s.dispose()));
});

const paper: PaperReader = {
  section: (id) => (id === '2' ? '## 2 Method\n\nWe use Adam with lr 3e-4.' : undefined),
  search: (q) => `1. [2] Method\n   …${q}…`,
  index: () => '[1] Intro\n[2] Method',
};

async function ctx(files: Record<string, string> = {}, extra: Partial<ToolContext> = {}) {
  const sandbox = await DirSandbox.create(files);
  sandboxes.push(sandbox);
  const c: ToolContext = { sandbox, paper, ...extra };
  let n = 0;
  const run = (name: string, args: unknown) =>
    runToolCall(
      { id: `t${++n}`, name, arguments: typeof args === 'string' ? args : JSON.stringify(args) },
      defaultTools(),
      c,
    );
  return { sandbox, run };
}

test('write_file, read_file with ranges, and absolute paths under the workdir', async () => {
  const { sandbox, run } = await ctx();
  const content = Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join('\n');
  const w = await run('write_file', { path: 'src/a.py', content });
  assert.equal(w.ok, true);
  assert.deepEqual(w.wrote, ['src/a.py']);
  assert.match(w.output, /Created src\/a\.py \(10 lines/);
  const r = await run('read_file', { path: `${sandbox.workdir}/src/a.py`, start_line: 3, end_line: 4 });
  assert.equal(r.output, 'src/a.py (lines 3-4 of 10):\n3\tline 3\n4\tline 4\n');
  const missing = await run('read_file', { path: 'nope.py' });
  assert.equal(missing.ok, false);
  assert.match(missing.output, /nope\.py does not exist/);
});

test('edit_file: exact replace; absent and ambiguous old text are clear errors', async () => {
  const { sandbox, run } = await ctx({ 'm.py': 'x = 1\ny = 2\nx = 1\n' });
  const amb = await run('edit_file', { path: 'm.py', old_text: 'x = 1', new_text: 'x = 3' });
  assert.equal(amb.ok, false);
  assert.match(amb.output, /occurs 2 times in m\.py \(lines 1, 3\)/);
  const absent = await run('edit_file', { path: 'm.py', old_text: 'z = 9', new_text: '' });
  assert.equal(absent.ok, false);
  assert.match(absent.output, /not found in m\.py.*read_file/);
  const ws = await run('edit_file', { path: 'm.py', old_text: 'y  =  2', new_text: '' });
  assert.match(ws.output, /whitespace is ignored/);
  const ok = await run('edit_file', { path: 'm.py', old_text: 'y = 2', new_text: 'y = $& 20' });
  assert.equal(ok.ok, true);
  assert.equal(Buffer.from(await sandbox.readFile('m.py')).toString(), 'x = 1\ny = $& 20\nx = 1\n');
  const all = await run('edit_file', {
    path: 'm.py',
    old_text: 'x = 1',
    new_text: 'x = 0',
    replace_all: true,
  });
  assert.match(all.output, /replaced 2 occurrences/);
  const nofile = await run('edit_file', { path: 'new.py', old_text: 'a', new_text: 'b' });
  assert.match(nofile.output, /new\.py does not exist; create it with write_file/);
});

test('paths cannot escape the workspace, through .., absolute paths or symlinks', async () => {
  const { sandbox, run } = await ctx({ 'a.txt': 'a' });
  const up = await run('read_file', { path: '../../etc/passwd' });
  assert.equal(up.ok, false);
  assert.match(up.output, /escapes the workspace/);
  const abs = await run('write_file', { path: '/etc/evil', content: 'x' });
  assert.match(abs.output, /outside the workspace/);
  symlinkSync('/etc', join(sandbox.workdir, 'link'));
  const sl = await run('read_file', { path: 'link/passwd' });
  assert.equal(sl.ok, false);
  assert.match(sl.output, /symlink/);
  assert.equal(workspacePath('./x/../y.py', sandbox), 'y.py');
});

test('bash: exit code, timeout kills the process group, blacklist refuses', async () => {
  const { sandbox, run } = await ctx(
    {},
    {
      isBlocked: (c) =>
        c.includes('github.com/org/official') ? 'the official code is blacklisted' : undefined,
    },
  );
  const r = await run('bash', { command: 'echo hi; exit 3' });
  assert.equal(r.ok, false);
  assert.equal(r.output, 'hi\n[exit code: 3]');
  const t = await run('bash', { command: 'sleep 30 & sleep 30; echo never', timeout_seconds: 1 });
  assert.equal(t.ok, false);
  assert.match(t.output, /timed out after 1 s/);
  const b = await run('bash', { command: 'git clone https://github.com/org/official' });
  assert.equal(b.ok, false);
  assert.match(b.output, /Command refused: the official code is blacklisted/);
  assert.ok(!sandbox.commands.some((c) => c.includes('git clone')), 'blocked command never ran');
});

test('search finds lines; read_paper by section, query and index', async () => {
  const { run } = await ctx({ 'src/train.py': 'lr = 3e-4\nepochs = 10\n', 'README.md': 'no match here\n' });
  const s = await run('search', { pattern: 'lr\\s*=' });
  assert.match(s.output, /train\.py:1:lr = 3e-4/);
  const none = await run('search', { pattern: 'zzz_nothing' });
  assert.match(none.output, /No matches/);
  assert.match((await run('read_paper', { section: '2' })).output, /Adam with lr 3e-4/);
  const bad = await run('read_paper', { section: '9' });
  assert.equal(bad.ok, false);
  assert.match(bad.output, /No section "9"[\s\S]*\[2\] Method/);
  assert.match((await run('read_paper', { query: 'optimizer' })).output, /optimizer/);
  assert.match((await run('read_paper', {})).output, /\[1\] Intro/);
});

test('malformed JSON, wrong types and unknown tools are tool errors, not crashes', async () => {
  const { run } = await ctx();
  const m = await run('write_file', '{"path": "a.py", "content": "x = 1');
  assert.equal(m.ok, false);
  assert.match(m.output, /not valid JSON/);
  const miss = await run('write_file', { path: 'a.py' });
  assert.match(miss.output, /missing required argument "content"/);
  const type = await run('bash', { command: 42 });
  assert.match(type.output, /argument "command" must be a string/);
  const unk = await run('rm_rf', {});
  assert.match(unk.output, /Unknown tool "rm_rf".*bash/);
});

test('update_plan validates items; end_task carries the summary', async () => {
  const { run } = await ctx();
  const p = await run('update_plan', {
    items: [
      { text: 'read', status: 'done' },
      { text: 'code', status: 'doing' },
    ],
  });
  assert.deepEqual(p.plan, [
    { text: 'read', status: 'done' },
    { text: 'code', status: 'doing' },
  ]);
  assert.match(p.output, /2 items \(1 done, 1 doing, 0 to do\)/);
  const bad = await run('update_plan', { items: [{ text: 'x', status: 'maybe' }] });
  assert.equal(bad.ok, false);
  const e = await run('end_task', { summary: 'all done' });
  assert.deepEqual(e.end, { summary: 'all done' });
});
