/**
 * Proposed edits against the real Docker sandbox (container copy + shadow-git baseline): the agent
 * changes files with shell commands inside the container; the user's workspace is the host
 * folder the sandbox was copied from. Skips with the reason when Docker or the image is missing.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DirUserFiles, EditQueue } from '../../src/edits';
import { type DockerSandbox, removeSandbox } from '../../src/sandbox/index';
import { openTestSandbox, removeDir, skipDocker, tempWorkspace, uniqueSession } from './sandbox-support';

const ORIGINAL = Array.from({ length: 40 }, (_, i) => `w${i + 1} = ${i + 1}\r\n`).join('');
const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('utf8'));

describe('proposed edits on the docker sandbox', { skip: skipDocker }, () => {
  const session = uniqueSession('edits');
  let ws: string;
  let sb: DockerSandbox;
  let queue: EditQueue;
  const feedback: string[] = [];
  const local = (p: string) => {
    try {
      return readFileSync(join(ws, p), 'utf8');
    } catch {
      return null;
    }
  };
  const inBox = async (p: string) => {
    const r = await sb.exec(`cat ${p} 2>/dev/null || echo MISSING`);
    return r.output;
  };

  before(async () => {
    ws = tempWorkspace({
      'src/model.py': ORIGINAL,
      'docs/old-name.md': '# notes\n',
      'obsolete.txt': 'remove me?\n',
    });
    sb = await openTestSandbox(ws, session);
    queue = new EditQueue({ sandbox: sb, user: new DirUserFiles(ws), onFeedback: (t) => feedback.push(t) });
  });

  after(async () => {
    await removeSandbox(session);
    removeDir(ws);
  });

  test('shell changes in the container become proposals: modify (CRLF), rename, binary, delete', async () => {
    const r = await sb.exec(
      [
        "sed -i 's/^w5 = 5/w5 = five/; s/^w35 = 35/w35 = thirty_five/' src/model.py",
        'git mv -f docs/old-name.md docs/new-name.md 2>/dev/null || mv docs/old-name.md docs/new-name.md',
        "printf '\\x89PNG\\x00\\x01\\x02' > plot.png",
        'rm obsolete.txt',
      ].join(' && '),
    );
    assert.equal(r.exitCode, 0, r.output);
    const { proposed } = await queue.afterTool(1);
    assert.deepEqual(
      proposed.map((p) => [p.path, p.kind, p.renamedFrom ?? '', p.hunks.length, p.afterStyle.eol]),
      [
        ['docs/new-name.md', 'add', 'docs/old-name.md', 0, '\n'],
        ['obsolete.txt', 'delete', '', 1, '\n'],
        ['plot.png', 'binary', '', 0, '\n'],
        ['src/model.py', 'modify', '', 2, '\r\n'],
      ],
    );
  });

  test('accept one hunk, reject the other: host file keeps CRLF; baseline and container follow', async () => {
    const p = queue.get('src/model.py')!;
    assert.equal((await queue.accept(p.path, { hunks: [0], version: p.version })).status, 'accepted');
    const accepted = ORIGINAL.replace('w5 = 5\r\n', 'w5 = five\r\n');
    assert.equal(local('src/model.py'), accepted);
    assert.equal(text(await sb.baselineFile('src/model.py')), accepted);
    assert.equal(await inBox('src/model.py'), accepted.replace('w35 = 35\r\n', 'w35 = thirty_five\r\n'));

    const left = queue.get('src/model.py')!;
    const o = await queue.reject(left.path, {
      hunks: [0],
      version: left.version,
      reason: 'keep w35 numeric',
    });
    assert.equal(o.status, 'rejected');
    assert.equal(
      await inBox('src/model.py'),
      accepted,
      'the container copy is reverted to what was accepted',
    );
    assert.equal(local('src/model.py'), accepted);
    assert.deepEqual(feedback, [
      'User rejected the remaining changes to src/model.py (line 35): keep w35 numeric. They were reverted in the container; the changes the user accepted earlier stay.',
    ]);
  });

  test('rename accepted: the user file moves with the user edits; binary accepted; delete rejected', async () => {
    writeFileSync(join(ws, 'docs/old-name.md'), '# notes\nuser line\n');
    assert.equal((await queue.accept('docs/new-name.md')).status, 'accepted');
    assert.equal(local('docs/old-name.md'), null);
    assert.equal(local('docs/new-name.md'), '# notes\nuser line\n');

    assert.equal((await queue.accept('plot.png')).status, 'accepted');
    assert.deepEqual([...readFileSync(join(ws, 'plot.png'))], [0x89, 0x50, 0x4e, 0x47, 0, 1, 2]);

    assert.equal(
      (await queue.reject('obsolete.txt', { reason: 'still used by the docs' })).status,
      'rejected',
    );
    assert.equal(await inBox('obsolete.txt'), 'remove me?\n');
    assert.equal(local('obsolete.txt'), 'remove me?\n');
    assert.match(
      feedback.at(-1)!,
      /^User rejected the edit to obsolete\.txt: still used by the docs\. The file was restored/,
    );

    assert.deepEqual(queue.list(), []);
    assert.deepEqual(await sb.changes(), [], 'nothing left between the container and its baseline');
  });
});
