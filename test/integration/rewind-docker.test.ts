/**
 * Rewind and diff on a real container: step commits in the shadow git, "Rewind code" restores the
 * files of a step byte for byte (modes, deletions, binary files), and `klong rewind` / `klong diff`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { main } from '../../src/cli/main';
import { readHistory, recordStep, rewindSession } from '../../src/engine/rewind';
import { type DockerSandbox, type FileChange, removeSandbox } from '../../src/sandbox/index';
import { SessionStore } from '../../src/session';
import { openTestSandbox, removeDir, skipDocker, tempWorkspace, uniqueSession } from './sandbox-support';

/** Every file of the workspace copy: path, mode and sha256 (symlinks by target). */
const FINGERPRINT = `find . \\( -type f -o -type l \\) -print0 | sort -z |
while IFS= read -r -d '' f; do
  if [ -L "$f" ]; then echo "$f L $(readlink "$f")"; else echo "$f $(stat -c %a "$f") $(sha256sum < "$f" | cut -c1-64)"; fi
done`;

function capture() {
  let out = '';
  let err = '';
  return {
    io: {
      out: {
        write: (s: string) => {
          out += s;
          return true;
        },
      },
      err: {
        write: (s: string) => {
          err += s;
          return true;
        },
      },
      onInterrupt: () => () => undefined,
    },
    get out() {
      return out;
    },
    get err() {
      return err;
    },
  };
}

describe('rewind on a real container', { skip: skipDocker }, () => {
  const session = uniqueSession('rewind');
  const stateDir = mkdtempSync(join(tmpdir(), 'klong-rewind-state-'));
  let ws: string;
  let sb: DockerSandbox;
  const prints: string[] = [];
  const proposals: FileChange[][] = [];
  const commits: (string | undefined)[] = [];

  async function fingerprint(): Promise<string> {
    const r = await sb.exec(FINGERPRINT);
    assert.equal(r.exitCode, 0, r.output);
    return r.output;
  }

  before(async () => {
    ws = tempWorkspace({
      'README.md': 'hello\n',
      'src/main.py': 'print(1)\n',
      'src/util.py': 'X = 1\n',
      'data/weights.bin': Buffer.from([0, 1, 2, 3, 255, 254, 0, 0, 7]),
    });
    sb = await openTestSandbox(ws, session);
    const live = new SessionStore(stateDir).create({
      sessionId: session,
      paperTitle: 'Tiny',
      paperPath: 'tiny.md',
      workspace: ws,
      model: 'test-model',
      budgetMs: 3600_000,
    });
    const steps = [
      // 1: modify text, add a binary file and an executable script
      "printf 'hello\\nworld\\n' > README.md && head -c 70000 /dev/urandom > model.ckpt && printf '#!/bin/sh\\necho hi\\n' > run.sh && chmod +x run.sh",
      // 2: no file changes
      'echo thinking',
      // 3: delete a file, change a binary one in place, add a nested file and a symlink
      "rm src/util.py && printf '\\x00\\x09' | dd of=data/weights.bin bs=1 seek=3 conv=notrunc status=none && mkdir -p out/deep && echo r > 'out/deep/res ult.txt' && ln -s ../README.md out/link",
      // 4: delete the binary file and the script
      'rm model.ckpt run.sh && echo 42 >> src/main.py',
    ];
    prints.push(await fingerprint());
    proposals.push(await sb.changes());
    for (let i = 0; i < steps.length; i++) {
      const n = i + 1;
      live.append({ type: 'model_request', step: n, window: 0, promptTokens: 10, messages: 2 });
      live.append({
        type: 'model_response',
        step: n,
        message: { role: 'assistant', content: `step ${n}`, toolCalls: [] },
        usage: { promptTokens: 10, cachedTokens: 0, completionTokens: 1 },
        costUsd: 0,
      });
      const r = await sb.exec(steps[i]!);
      assert.equal(r.exitCode, 0, r.output);
      commits.push(await recordStep(sb, n, (e) => live.append(e)));
      prints.push(await fingerprint());
      proposals.push(await sb.changes());
    }
    live.close();
  });

  after(async () => {
    await removeSandbox(session);
    removeDir(ws);
    removeDir(stateDir);
  });

  test('each file-changing step is a commit named by its checkpoint event; a step without changes is not', () => {
    assert.ok(commits[0] && commits[2] && commits[3]);
    assert.equal(commits[1], undefined);
    const { events } = readHistory(stateDir, session);
    const cps = events.filter((e) => e.type === 'checkpoint');
    assert.deepEqual(
      cps.map((e) => (e.type === 'checkpoint' ? [e.step, e.commit] : [])),
      [
        [1, commits[0]],
        [3, commits[2]],
        [4, commits[3]],
      ],
    );
    // The baseline is untouched: proposals are still the workspace against what the user has.
    assert.ok(proposals[4]!.some((c) => c.path === 'src/util.py' && c.kind === 'deleted'));
  });

  test('Rewind code: the files are those of the step byte for byte; proposals are recomputed', async () => {
    const r = await rewindSession({ stateDir, sessionId: session, toStep: 1, mode: 'code' });
    assert.equal(r.fromStep, 4);
    assert.equal(await fingerprint(), prints[1]);
    assert.deepEqual(await sb.changes(), proposals[1]);
    assert.equal(r.changedFiles, proposals[1]!.length);
    // Forward again to step 3 (deleted file, patched binary, symlink, a name with a space).
    await rewindSession({ stateDir, sessionId: session, toStep: 3, mode: 'code' });
    assert.equal(await fingerprint(), prints[3]);
    assert.deepEqual(await sb.changes(), proposals[3]);
  });

  test('Rewind both to 0, then code to a step of the abandoned branch; the log keeps everything', async () => {
    await rewindSession({ stateDir, sessionId: session, toStep: 0, mode: 'both' });
    assert.equal(await fingerprint(), prints[0]);
    assert.deepEqual(await sb.changes(), []);
    await rewindSession({ stateDir, sessionId: session, toStep: 4, mode: 'code' });
    assert.equal(await fingerprint(), prints[4]);
    const { events, history } = readHistory(stateDir, session);
    assert.equal(events.filter((e) => e.type === 'model_request').length, 4);
    assert.equal(events.filter((e) => e.type === 'rewind').length, 4);
    assert.equal(history.head, 0);
    assert.equal(history.code, commits[3]);
  });

  test('klong rewind: --code to a step, and a clear error for a step that does not exist', async () => {
    const ok = capture();
    const code = await main(['rewind', session, '--to', '2', '--code', '--state-dir', stateDir], ok.io);
    assert.equal(code, 0, ok.err);
    assert.match(ok.out, /Code of .* rewound to step 2 \(was at step 0\)\. \d+ file\(s\) now differ/);
    assert.equal(await fingerprint(), prints[2], 'step 2 changed nothing: the files of step 1');
    const bad = capture();
    assert.equal(await main(['rewind', session, '--to', '99', '--state-dir', stateDir], bad.io), 1);
    assert.match(bad.err, /Step 99 is not in this session \(steps 0–4\)/);
    const noTo = capture();
    assert.equal(await main(['rewind', session, '--state-dir', stateDir], noTo.io), 2);
    assert.match(noTo.err, /--to STEP is required/);
  });

  test('klong diff: unified diff between steps, deletions and binary files included', async () => {
    const d = capture();
    assert.equal(await main(['diff', session, '--from', '1', '--to', '3', '--state-dir', stateDir], d.io), 0);
    assert.match(d.out, /^diff --git a\/src\/util\.py b\/src\/util\.py\ndeleted file mode 100644/m);
    assert.match(d.out, /^-X = 1$/m);
    assert.match(d.out, /Binary files a\/data\/weights\.bin and b\/data\/weights\.bin differ/);
    assert.match(d.out, /^\+\+\+ b\/out\/deep\/res ult\.txt\t?$/m);
    assert.doesNotMatch(d.out, /a\/README\.md/, 'unchanged between steps 1 and 3');
    const all = capture();
    assert.equal(await main(['diff', session, '--state-dir', stateDir], all.io), 0);
    assert.match(all.out, /^\+world$/m, 'from the workspace as copied in');
    assert.doesNotMatch(all.out, /^\+42$/m, 'to the code now: rewound to step 2 above');
    const four = capture();
    assert.equal(await main(['diff', session, '--to', '4', '--state-dir', stateDir], four.io), 0);
    assert.match(four.out, /^\+42$/m);
  });
});
