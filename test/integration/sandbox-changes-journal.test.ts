/**
 * changes() through the in-container change journal (inotify watcher): what shell commands do to the
 * workspace is reported exactly as a full scan reports it, and whenever the journal cannot be trusted
 * (watcher killed, no python3, rewind, ignore rules edited) changes() scans the whole tree instead.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bashScript } from '../../src/sandbox/exec';
import { type DockerSandbox, openSandbox, removeSandbox } from '../../src/sandbox/index';
import type { FileChange } from '../../src/sandbox/sandbox';
import {
  removeDir,
  skipDocker,
  TEST_IMAGE,
  TEST_LABELS,
  tempWorkspace,
  uniqueSession,
} from './sandbox-support';

const paths = (cs: FileChange[]) => cs.map((c) => `${c.kind} ${c.path}`);

describe('changes() with the change journal', { skip: skipDocker }, () => {
  const session = uniqueSession('journal');
  let ws: string;
  let sb: DockerSandbox;

  const open = () =>
    openSandbox({
      workspace: ws,
      sessionId: session,
      network: 'none',
      image: TEST_IMAGE,
      labels: TEST_LABELS,
    });

  /** As root in the container (the test image's user may not be root). */
  const root = async (script: string) => {
    const r = await bashScript(sb.container, script, [], { user: 'root' });
    assert.equal(r.exitCode, 0, r.stderr);
    return r.stdout.toString('utf8').trim();
  };

  /** changes() of this sandbox, checked against a full scan by a second, freshly attached sandbox. */
  const journalChanges = async () => {
    const got = await sb.changes();
    assert.equal(sb.lastChangesScan, 'journal', 'the answer came from the journal');
    const other = await open();
    try {
      assert.equal(other.info.reattached, true);
      assert.deepEqual(await other.changes(), got, 'same answer as a full scan');
      assert.equal(other.lastChangesScan, 'full');
    } finally {
      await other.dispose();
    }
    return got;
  };

  before(async () => {
    ws = tempWorkspace({
      'README.md': 'hello\n',
      'src/main.py': 'print(1)\n',
      'src/util.py': 'X = 1\n',
      'lib/a.py': 'A = 1\n',
      'lib/sub/b.py': 'B = 1\n',
      'run.sh': 'echo run\n',
      '.gitignore': '*.log\n',
    });
    sb = await open();
    assert.deepEqual(await sb.changes(), []);
    assert.equal(sb.lastChangesScan, 'full', 'the first call scans the whole tree');
  });

  after(async () => {
    await removeSandbox(session);
    removeDir(ws);
  });

  test('edits by shell commands are all reported: append, new nested dirs, rm -rf, mv of a dir, chmod, symlink', async () => {
    await sb.exec('echo more >> README.md');
    assert.deepEqual(await journalChanges(), [
      {
        path: 'README.md',
        kind: 'modified',
        binary: false,
        size: 11,
        executable: false,
        wasExecutable: false,
      },
    ]);

    // Directories and files made in one command, before the watcher can watch the new directories.
    await sb.exec('mkdir -p new/deep/er && echo hi > new/deep/er/f.txt && printf "a\\0b" > new/g.bin');
    // Then an edit inside the new directory: it must be watched by now.
    await sb.exec('echo again >> new/deep/er/f.txt');
    assert.deepEqual((await journalChanges()).slice(1), [
      {
        path: 'new/deep/er/f.txt',
        kind: 'added',
        binary: false,
        size: 9,
        executable: false,
        wasExecutable: false,
      },
      { path: 'new/g.bin', kind: 'added', binary: true, size: 3, executable: false, wasExecutable: false },
    ]);

    await sb.exec('rm -rf src && mv lib lib2 && chmod +x run.sh && ln -s README.md link');
    await sb.exec('echo "C = 3" >> lib2/sub/b.py');
    assert.deepEqual(paths(await journalChanges()), [
      'modified README.md',
      'deleted lib/a.py',
      'deleted lib/sub/b.py',
      'added lib2/a.py',
      'added lib2/sub/b.py',
      'added link',
      'added new/deep/er/f.txt',
      'added new/g.bin',
      'modified run.sh',
      'deleted src/main.py',
      'deleted src/util.py',
    ]);
    const b = (await sb.changes()).find((c) => c.path === 'lib2/sub/b.py');
    assert.equal(b?.size, 12, 'the edit inside the moved directory is seen');
    // The mode is part of the answer: run.sh was made executable (a sensitive change, see edits/sensitive.ts).
    const run = (await sb.changes()).find((c) => c.path === 'run.sh');
    assert.deepEqual([run?.executable, run?.wasExecutable], [true, false]);

    // A directory moved in from outside the workspace, then a file written through the engine (putArchive).
    await sb.exec('mkdir -p /tmp/outside/in && echo o > /tmp/outside/in/o.txt && mv /tmp/outside ./moved');
    await sb.writeFile('new/deep/written.txt', 'written\n');
    // Text and binary beyond the first 32 KiB (grep -I's verdict either way).
    await sb.exec(
      "head -c 40000 /dev/zero | tr '\\0' a > big.txt && { head -c 40000 /dev/zero | tr '\\0' a; printf 'b\\0'; } > bignul.dat",
    );
    const all = await journalChanges();
    assert.deepEqual(
      all.filter((c) => c.path.startsWith('big')),
      [
        {
          path: 'big.txt',
          kind: 'added',
          binary: false,
          size: 40000,
          executable: false,
          wasExecutable: false,
        },
        {
          path: 'bignul.dat',
          kind: 'added',
          binary: true,
          size: 40002,
          executable: false,
          wasExecutable: false,
        },
      ],
    );
    const cs = paths(all);
    assert.ok(cs.includes('added moved/in/o.txt'), cs.join(', '));
    assert.ok(cs.includes('added new/deep/written.txt'), cs.join(', '));
  });

  test('revert and accept take files out of changes(); a later edit brings them back', async () => {
    await sb.revert('README.md');
    await sb.acceptIntoBaseline(['new/g.bin', 'lib/a.py', 'lib2/a.py']);
    let cs = paths(await journalChanges());
    for (const gone of ['modified README.md', 'added new/g.bin', 'deleted lib/a.py', 'added lib2/a.py'])
      assert.ok(!cs.includes(gone), `${gone} left changes(): ${cs.join(', ')}`);
    assert.ok(cs.includes('added lib2/sub/b.py'));

    await sb.exec('echo x >> lib2/a.py');
    cs = paths(await journalChanges());
    assert.ok(cs.includes('modified lib2/a.py'), cs.join(', '));
  });

  test('editing .gitignore rescans: a file it no longer ignores shows up', async () => {
    await sb.exec('echo log > train.log');
    assert.ok(!paths(await journalChanges()).includes('added train.log'), 'ignored');
    await sb.exec('echo "*.tmp" > .gitignore');
    const cs = paths(await sb.changes());
    assert.equal(sb.lastChangesScan, 'full');
    assert.ok(cs.includes('added train.log'), cs.join(', '));
    assert.ok(cs.includes('modified .gitignore'), cs.join(', '));
  });

  test('a rewind (restoreCommit) is followed by a full scan with the right answer', async () => {
    const before = await sb.changes();
    const commit = await sb.commitStep(1);
    assert.ok(commit);
    await sb.exec('echo later > later.txt && rm -rf moved');
    await sb.restoreCommit(commit);
    assert.deepEqual(await sb.changes(), before);
    assert.equal(sb.lastChangesScan, 'full');
    await sb.exec('echo later > later.txt');
    assert.ok(paths(await journalChanges()).includes('added later.txt'));
  });

  test('a killed watcher: changes() still reports every edit, and the journal comes back', async () => {
    const pid = await root('cat /var/lib/klong/watch/pid');
    await root(`kill -9 ${pid}`);
    await sb.exec('echo killed > killed.txt');
    assert.ok(paths(await sb.changes()).includes('added killed.txt'));
    assert.equal(sb.lastChangesScan, 'full');
    // That call found the watcher gone; the next one starts it again (full scan), then the journal is used.
    await sb.changes();
    await sb.exec('echo again >> killed.txt');
    const k = (await journalChanges()).find((c) => c.path === 'killed.txt');
    assert.equal(k?.size, 13);
    assert.notEqual(await root('cat /var/lib/klong/watch/pid'), pid, 'a new watcher');
  });

  test('an image without python3: no watcher, every call is a full scan and still right', async () => {
    const pid = await root('cat /var/lib/klong/watch/pid');
    await root(
      `kill -9 ${pid}; for p in $(which -a python3); do mv "$p" "$p.hidden"; done; ! command -v python3`,
    );
    try {
      const steps: [string, [string, number] | undefined][] = [
        ['echo 1 > nopy.txt', ['added', 2]],
        ['echo 22 >> nopy.txt', ['added', 5]],
        ['rm nopy.txt', undefined],
      ];
      for (const [cmd, want] of steps) {
        await sb.exec(cmd);
        const n = (await sb.changes()).find((c) => c.path === 'nopy.txt');
        assert.equal(sb.lastChangesScan, 'full');
        assert.deepEqual(n ? [n.kind, n.size] : undefined, want, cmd);
      }
    } finally {
      await root(
        `for p in /usr/bin/python3.hidden /usr/local/bin/python3.hidden; do [ ! -e "$p" ] || mv "$p" "\${p%.hidden}"; done`,
      );
    }
  });
});
