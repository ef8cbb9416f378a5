/**
 * Large files on the real Docker sandbox: accepting one streams it from the container into the
 * user's file (compared by git blob id, temp file + rename), and read_file pages through a file of
 * any size by line ranges. Memory is measured in bench/large-files.bench.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileTools } from '../../src/agent/tools/files';
import { DirUserFiles, EditQueue } from '../../src/edits';
import { type DockerSandbox, removeSandbox } from '../../src/sandbox/index';
import { openTestSandbox, removeDir, skipDocker, tempWorkspace, uniqueSession } from './sandbox-support';

const MB = 1024 * 1024;
const readTool = fileTools.find((t) => t.spec.name === 'read_file')!;
const editTool = fileTools.find((t) => t.spec.name === 'edit_file')!;

describe('large files on the docker sandbox', { skip: skipDocker }, () => {
  const session = uniqueSession('large');
  let ws: string;
  let sb: DockerSandbox;
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const inBoxSha = async (p: string) => (await sb.exec(`sha256sum ${p} | cut -d' ' -f1`)).output.trim();
  const tempFiles = () => readdirSync(ws, { recursive: true }).filter((f) => String(f).includes('.klong-'));

  before(async () => {
    ws = tempWorkspace({ 'data/old.bin': Buffer.alloc(6 * MB, 7), 'keep.txt': 'x\n' });
    sb = await openTestSandbox(ws, session);
  });

  after(async () => {
    await removeSandbox(session);
    removeDir(ws);
  });

  test('auto-accept copies a 48 MB file the agent wrote byte for byte, through a temp file', async () => {
    const queue = new EditQueue({ sandbox: sb, user: new DirUserFiles(ws), mode: 'auto-accept' });
    const r = await sb.exec('head -c 48M /dev/urandom > model.bin && printf "\\x00tail" >> model.bin');
    assert.equal(r.exitCode, 0, r.output);
    const { proposed, outcomes } = await queue.afterTool(1);
    assert.equal(proposed.length, 1);
    assert.ok(proposed[0]!.wholeFileOnly);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['accepted'],
    );
    const host = readFileSync(join(ws, 'model.bin'));
    assert.equal(host.length, 48 * MB + 5);
    assert.equal(sha(host), await inBoxSha('model.bin'));
    assert.deepEqual(tempFiles(), []);
    assert.deepEqual(queue.list(), [], 'the baseline took it: no proposal left');
  });

  test('a large file the user changed meanwhile is a conflict; overwrite replaces it; a large delete is compared by id', async () => {
    const queue = new EditQueue({ sandbox: sb, user: new DirUserFiles(ws) });
    assert.equal((await sb.exec('head -c 7M /dev/zero | tr "\\0" "a" > data/old.bin')).exitCode, 0);
    await queue.refresh(2);
    writeFileSync(join(ws, 'data/old.bin'), 'mine\n');
    const c = await queue.accept('data/old.bin');
    assert.equal(c.status, 'conflict');
    assert.equal(readFileSync(join(ws, 'data/old.bin'), 'utf8'), 'mine\n', 'nothing written');
    const o = await queue.accept('data/old.bin', { onConflict: 'overwrite' });
    assert.equal(o.status, 'accepted', o.message);
    assert.equal(sha(readFileSync(join(ws, 'data/old.bin'))), await inBoxSha('data/old.bin'));

    // Deleted in the container: the user's copy equals the baseline, so accept deletes it.
    assert.equal((await sb.exec('rm data/old.bin')).exitCode, 0);
    await queue.refresh(3);
    assert.equal((await queue.accept('data/old.bin')).status, 'accepted');
    assert.throws(() => readFileSync(join(ws, 'data/old.bin')), /ENOENT/);
  });

  test('read_file pages through a 120 MB file by line ranges; a huge line says how to see it', async () => {
    const r = await sb.exec(
      'seq 1 12000000 | sed "s/$/ some text/" > big.log && head -c 3M /dev/zero | tr "\\0" "z" > one-line.txt',
      { timeoutMs: 120_000 },
    );
    assert.equal(r.exitCode, 0, r.output);
    const ctx = { sandbox: sb };
    const first = await readTool.run({ path: 'big.log' }, ctx);
    assert.ok(first.ok, first.output);
    assert.match(
      first.output,
      /^big\.log \(lines 1-400 of 12000000, \d+\.\d MB\): \[partial\] Continue with start_line 401\./,
    );
    assert.match(first.output, /\n {2}1\t1 some text\n/);
    const deep = await readTool.run({ path: 'big.log', start_line: 11_999_999, end_line: 12_000_000 }, ctx);
    assert.ok(deep.ok, deep.output);
    assert.match(deep.output, /\(lines 11999999-12000000 of 12000000/);
    assert.match(deep.output, /11999999\t11999999 some text\n12000000\t12000000 some text\n$/);
    assert.doesNotMatch(deep.output, /partial/);
    const past = await readTool.run({ path: 'big.log', start_line: 12_000_001 }, ctx);
    assert.equal(past.ok, false);
    assert.match(past.output, /has 12000000 lines/);

    const long = await readTool.run({ path: 'one-line.txt' }, ctx);
    assert.ok(long.ok, long.output);
    assert.match(
      long.output,
      /Line 1 is longer than 40000 characters and was cut; see it in pieces with bash/,
    );
    assert.ok(long.output.length < 50_000);

    const edit = await editTool.run({ path: 'big.log', old_text: '1 some', new_text: 'x' }, ctx);
    assert.equal(edit.ok, false);
    assert.match(edit.output, /too large for edit_file; change it with bash/);
  });

  test('read_file of a small file reads as before: all lines, no size, the exact text', async () => {
    await sb.writeFile('small.py', 'a = 1\r\nb = "é"\nlast');
    const out = await readTool.run({ path: 'small.py' }, { sandbox: sb });
    assert.equal(out.output, 'small.py (lines 1-3 of 3):\n1\ta = 1\r\n2\tb = "é"\n3\tlast\n');
    const missing = await readTool.run({ path: 'nope.txt' }, { sandbox: sb });
    assert.match(missing.output, /nope\.txt does not exist/);
    const bin = await readTool.run({ path: 'model.bin' }, { sandbox: sb });
    assert.match(bin.output, /model\.bin is a binary file/);
    // A copy never overwrites a file that is there (the temp name is new) and fails cleanly.
    await assert.rejects(sb.exportFile('model.bin', join(ws, 'keep.txt')), /EEXIST/);
    assert.equal(readFileSync(join(ws, 'keep.txt'), 'utf8'), 'x\n');
    await assert.rejects(sb.exportFile('nope.bin', join(ws, 'nope.tmp')), /No such file in the sandbox/);
  });
});
