/**
 * Rewind and step history on the real Docker engine, against baselines measured in the same run:
 * - "Rewind code" of a 10,000-step session to step 10 vs to step 9,990 (goal ≤ 2×): the cost must
 *   not grow with how far back the step is (both read the whole log; git touches only the files
 *   that differ). The 10,000 step commits are made inside the container by a bash loop running the
 *   same git plumbing as commitStep (one exec instead of 10,000 round trips); the log holds 10,000
 *   real steps with their checkpoint events.
 * - Shadow-git disk use after 1,000 file-changing steps (real commitStep, one per step) vs the
 *   workspace size (goal ≤ 1.5×); the row's baseline is a full copy of the workspace per step.
 *   Workspace: KLONG_BENCH_REWIND_MB (default 100) MB of data files plus 200 source files.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordStep, rewindSession } from '../src/engine/rewind';
import { bashScript } from '../src/sandbox/exec';
import { type DockerSandbox, openSandbox, removeSandbox } from '../src/sandbox/index';
import { SessionStore } from '../src/session';
import { type BenchRow, median, row } from './types';

const IMAGE = process.env.KLONG_TEST_IMAGE ?? 'klong/python:bookworm';
const LABELS = { 'klong.test': '1' };
const MB = Number(process.env.KLONG_BENCH_REWIND_MB ?? 100);

function sourceFiles(dir: string, n: number): void {
  mkdirSync(join(dir, 'src'), { recursive: true });
  for (let i = 0; i < n; i++)
    writeFileSync(join(dir, 'src', `m${i}.py`), `# module ${i}\n${'x = 1\n'.repeat(150)}`);
}

async function session(stateDir: string, id: string, ws: string) {
  return new SessionStore(stateDir, { durability: 'none' }).create({
    sessionId: id,
    paperTitle: 'bench',
    paperPath: 'bench.md',
    workspace: ws,
    model: 'bench',
    budgetMs: 3600_000,
  });
}

/** Appends one logged step (request, response, tool call and result) without its checkpoint. */
function logStep(live: Awaited<ReturnType<typeof session>>, n: number): void {
  live.append({ type: 'model_request', step: n, window: 0, promptTokens: 1000, messages: 10 });
  live.append({
    type: 'model_response',
    step: n,
    message: {
      role: 'assistant',
      content: `step ${n}`,
      toolCalls: [{ id: `c${n}`, name: 'bash', arguments: '{}' }],
    },
    usage: { promptTokens: 1000, cachedTokens: 900, completionTokens: 50 },
    costUsd: 0,
  });
  live.append({ type: 'tool_call', step: n, callId: `c${n}`, name: 'bash', args: '{"command":"edit"}' });
  live.append({
    type: 'tool_result',
    step: n,
    callId: `c${n}`,
    name: 'bash',
    ok: true,
    output: 'ok\n[exit code: 0]',
    durationMs: 5,
  });
}

async function rewindDistance(rows: BenchRow[]): Promise<void> {
  const STEPS = Number(process.env.KLONG_BENCH_REWIND_STEPS ?? 10_000);
  const ws = mkdtempSync(join(tmpdir(), 'klong-bench-rw-'));
  const stateDir = mkdtempSync(join(tmpdir(), 'klong-bench-rw-state-'));
  const id = `bench-rewind-${process.pid}`;
  sourceFiles(ws, 500);
  let sb: DockerSandbox | undefined;
  try {
    sb = await openSandbox({ workspace: ws, sessionId: id, network: 'none', image: IMAGE, labels: LABELS });
    // Step n rewrites src/m(n % 500).py: step 10 and the head differ in ~500 files, step 9,990 in 10.
    const loop = await sb.exec(
      `export GIT_DIR=/var/lib/klong/shadow.git GIT_WORK_TREE=$PWD GIT_INDEX_FILE=/var/lib/klong/shadow.git/klong-steps.index
export GIT_AUTHOR_NAME=klong GIT_AUTHOR_EMAIL=klong@localhost GIT_COMMITTER_NAME=klong GIT_COMMITTER_EMAIL=klong@localhost
g() { git -c safe.directory='*' "$@"; }
g read-tree HEAD
prev=
for ((n = 1; n <= ${STEPS}; n++)); do
  printf '# module %d, step %d\\n' $((n % 500)) $n >> src/m$((n % 500)).py
  g add -A; t=$(g write-tree)
  prev=$(g commit-tree $t \${prev:+-p $prev} -m "step $n"); echo $prev
done > /tmp/commits.txt; g update-ref refs/klong/steps $prev; wc -l < /tmp/commits.txt`,
      { timeoutMs: 3600_000 },
    );
    if (loop.exitCode !== 0) throw new Error(`making ${STEPS} commits failed: ${loop.output}`);
    // A one-off exec keeps stdout whole (the shell's output is capped head + tail).
    const list = await bashScript(sb.container, 'cat /tmp/commits.txt');
    const commits = list.stdout.toString('utf8').trim().split('\n');
    if (commits.length !== STEPS)
      throw new Error(
        `expected ${STEPS} commits, got ${commits.length} (exit ${list.exitCode}, ${list.stderr.trim()}; loop said ${loop.output.trim().slice(-300)})`,
      );
    const live = await session(stateDir, id, ws);
    for (let n = 1; n <= STEPS; n++) {
      logStep(live, n);
      live.append({ type: 'checkpoint', step: n, commit: commits[n - 1]! });
    }
    live.close();
    await sb.dispose();
    sb = undefined;

    const rewind = async (to: number) => {
      const t = performance.now();
      await rewindSession({ stateDir, sessionId: id, toStep: to, mode: 'code' });
      return performance.now() - t;
    };
    const near: number[] = [];
    const far: number[] = [];
    await rewind(STEPS); // warm up
    for (let i = 0; i < 5; i++) {
      far.push(await rewind(10));
      await rewind(STEPS);
      near.push(await rewind(STEPS - 10));
      await rewind(STEPS);
    }
    rows.push(
      row(
        `rewind code to step 10 vs step ${STEPS - 10} of a ${STEPS}-step session`,
        'ms',
        median(far),
        median(near),
        { max: 2 },
        `median of 5; step 10 differs from the head in 500 files, step ${STEPS - 10} in 10; 500 source files`,
      ),
    );
  } finally {
    await sb?.dispose().catch(() => undefined);
    await removeSandbox(id).catch(() => undefined);
    rmSync(ws, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  }
}

async function diskUse(rows: BenchRow[]): Promise<void> {
  const STEPS = 1000;
  const ws = mkdtempSync(join(tmpdir(), 'klong-bench-disk-'));
  const id = `bench-disk-${process.pid}`;
  sourceFiles(ws, 200);
  mkdirSync(join(ws, 'data'));
  // Data that does not compress (like datasets and checkpoints): the honest case for git.
  for (let i = 0; i < MB; i++) writeFileSync(join(ws, 'data', `part${i}.bin`), randomBytes(1024 * 1024));
  let sb: DockerSandbox | undefined;
  try {
    sb = await openSandbox({ workspace: ws, sessionId: id, network: 'none', image: IMAGE, labels: LABELS });
    const size = Number((await sb.exec('du -sb . | cut -f1')).output.trim());
    let recorded = 0;
    for (let n = 1; n <= STEPS; n++) {
      // A typical step: edit a source file; every 50th step also writes a small result file.
      const extra = n % 50 === 0 ? ` && echo "result ${n}: $RANDOM" > results/r${n}.txt` : '';
      const r = await sb.exec(`mkdir -p results && printf 'y = %d\\n' ${n} >> src/m${n % 200}.py${extra}`);
      if (r.exitCode !== 0) throw new Error(r.output);
      if (await recordStep(sb, n, () => undefined)) recorded++;
    }
    if (recorded !== STEPS) throw new Error(`only ${recorded} of ${STEPS} steps made a commit`);
    // The background gc --auto packs the loose objects: wait for it to finish before measuring.
    await sb.exec(
      'for i in $(seq 600); do [ -e /var/lib/klong/shadow.git/gc.pid ] || break; sleep 0.5; done',
      { timeoutMs: 400_000 },
    );
    const git = await sb.shadowGitBytes();
    rows.push(
      row(
        `shadow-git disk use after ${STEPS} file-changing steps vs the workspace`,
        'MB',
        git / 1e6,
        size / 1e6,
        { max: 1.5 },
        `workspace ${(size / 1e6).toFixed(0)} MB (${MB} MB random data + 200 source files); baseline is the workspace size`,
      ),
      row(
        `shadow-git disk use after ${STEPS} steps vs a full copy per step`,
        'MB',
        git / 1e6,
        (size * STEPS) / 1e6,
        { max: 0.01 },
        'baseline computed: steps × workspace size',
      ),
    );
  } finally {
    await sb?.dispose().catch(() => undefined);
    await removeSandbox(id).catch(() => undefined);
    rmSync(ws, { recursive: true, force: true });
  }
}

export default async function bench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  await rewindDistance(rows);
  await diskUse(rows);
  return rows;
}
