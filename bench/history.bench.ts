/**
 * The step history kept on the host (history.git in the session folder), on the real Docker engine,
 * against baselines measured in the same run:
 * - Per-step cost of recording a step with its host copy (commitStep + thin pack to the host +
 *   index-pack + update-ref, the real recordStep) at step 10,000 vs at step 100 (goal ≤ 1.5×). The
 *   steps in between are made quickly: a bash loop in the container runs commitStep's plumbing, and
 *   the host receives them in batches of 100 (the same objects and, with the background geometric
 *   repack, the same pack layout as one pack per step).
 * - Resuming a session whose container is gone (a new container, the host history imported, the
 *   workspace restored to the last step) vs resuming with its container (goal ≤ 3×), both through
 *   Reproduction.open as the CLI does it.
 * Steps: KLONG_BENCH_HISTORY_STEPS (default 10,000).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirUserFiles } from '../src/edits';
import { Reproduction, type RunSettings } from '../src/engine/reproduction';
import { HistoryKeeper, recordStep } from '../src/engine/rewind';
import { type DockerSandbox, openSandbox, removeSandbox } from '../src/sandbox/index';
import { type BenchRow, median, row } from './types';

const IMAGE = process.env.KLONG_TEST_IMAGE ?? 'klong/python-min:bookworm';
const LABELS = { 'klong.test': '1' };

function sourceFiles(dir: string, n: number): void {
  mkdirSync(join(dir, 'src'), { recursive: true });
  for (let i = 0; i < n; i++)
    writeFileSync(join(dir, 'src', `m${i}.py`), `# module ${i}\n${'x = 1\n'.repeat(150)}`);
}

/** `count` real steps from `from` on: edit a file, then recordStep with the host copy; ms each. */
async function realSteps(sb: DockerSandbox, keeper: HistoryKeeper, from: number, count: number) {
  const times: number[] = [];
  for (let n = from; n < from + count; n++) {
    const r = await sb.exec(`printf 'y = %d\\n' ${n} >> src/m${n % 500}.py`);
    if (r.exitCode !== 0) throw new Error(r.output);
    const t = performance.now();
    const c = await recordStep(sb, n, () => undefined, undefined, keeper);
    times.push(performance.now() - t);
    if (!c || !keeper.upToDate) throw new Error(`step ${n} was not recorded on the host`);
  }
  return times;
}

async function perStepCost(rows: BenchRow[]): Promise<void> {
  const STEPS = Number(process.env.KLONG_BENCH_HISTORY_STEPS ?? 10_000);
  const ws = mkdtempSync(join(tmpdir(), 'klong-bench-hist-'));
  const sessionDir = mkdtempSync(join(tmpdir(), 'klong-bench-hist-session-'));
  const id = `bench-history-${process.pid}`;
  sourceFiles(ws, 500);
  let sb: DockerSandbox | undefined;
  try {
    sb = await openSandbox({ workspace: ws, sessionId: id, network: 'none', image: IMAGE, labels: LABELS });
    const keeper = new HistoryKeeper(sessionDir, (m) => {
      throw new Error(m);
    });
    await keeper.mirror(sb);
    await realSteps(sb, keeper, 1, 60);
    const early = await realSteps(sb, keeper, 61, 80); // around step 100
    log(`step 100: ${median(early).toFixed(1)} ms per step`);
    // Up to step STEPS - 40: commits made in the container, sent to the host 100 at a time.
    let n = 141;
    while (n <= STEPS - 40) {
      const upto = Math.min(n + 99, STEPS - 40);
      const loop = await sb.exec(
        `export GIT_DIR=/var/lib/klong/shadow.git GIT_WORK_TREE=$PWD GIT_INDEX_FILE=/var/lib/klong/shadow.git/klong-steps.index
export GIT_AUTHOR_NAME=klong GIT_AUTHOR_EMAIL=klong@localhost GIT_COMMITTER_NAME=klong GIT_COMMITTER_EMAIL=klong@localhost
g() { git -c safe.directory='*' "$@"; }
prev=$(g rev-parse refs/klong/steps)
for ((n = ${n}; n <= ${upto}; n++)); do
  f=src/m$((n % 500)).py; printf 'y = %d\\n' $n >> $f
  g update-index -- $f; t=$(g write-tree)
  prev=$(g commit-tree $t -p $prev -m "step $n")
done; g update-ref refs/klong/steps $prev`,
        { timeoutMs: 600_000 },
      );
      if (loop.exitCode !== 0) throw new Error(`making commits failed: ${loop.output}`);
      if (!(await keeper.mirror(sb))) throw new Error('mirror failed');
      n = upto + 1;
      log(`step ${upto}: ${keeper.history.packCount()} packs`);
    }
    const late = await realSteps(sb, keeper, n, 80); // around step STEPS
    await keeper.history.settle();
    rows.push(
      row(
        `record a step with its host copy: step ${STEPS} vs step 100`,
        'ms',
        median(late),
        median(early),
        { max: 1.5 },
        `median of 80 steps each (commit in the container + thin pack to history.git); ${keeper.history.packCount()} packs on the host at the end; 500 source files`,
      ),
    );
  } finally {
    await sb?.dispose().catch(() => undefined);
    await removeSandbox(id).catch(() => undefined);
    rmSync(ws, { recursive: true, force: true });
    rmSync(sessionDir, { recursive: true, force: true });
  }
}

async function resumeWithoutContainer(rows: BenchRow[]): Promise<void> {
  const ws = mkdtempSync(join(tmpdir(), 'klong-bench-resume-'));
  const stateDir = mkdtempSync(join(tmpdir(), 'klong-bench-resume-state-'));
  const paper = join(stateDir, 'paper.md');
  writeFileSync(paper, '# A small paper\n\n## Method\n\nWe add numbers.\n');
  sourceFiles(ws, 200);
  const id = `bench-resume-${process.pid}`;
  const settings: RunSettings = {
    stateDir,
    model: {
      baseUrl: 'http://127.0.0.1:9/v1', // never asked: the bench only opens sessions
      apiKey: 'sk-bench',
      name: 'bench',
      contextLimit: 128_000,
      prices: { input: 0, cachedInput: 0, output: 0 },
    },
    budgetMs: 3600_000,
    approval: 'review',
    network: 'none',
    image: IMAGE,
    labels: LABELS,
    finalRun: false,
  };
  const hooks = { say: () => undefined, userFiles: new DirUserFiles(ws) };
  try {
    const first = await Reproduction.open(settings, { paper, workspace: ws, sessionId: id }, hooks);
    // 200 steps that change files (a few, so that rebuilding the proposals does not dominate), logged as the loop logs them.
    for (let n = 1; n <= 200; n++) {
      first.live.append({ type: 'model_request', step: n, window: 0, promptTokens: 10, messages: 2 });
      await first.sandbox.exec(
        `mkdir -p out && printf 'y = %d\\n' ${n} >> src/m${n % 5}.py && echo ${n} > out/r${n % 5}.txt`,
      );
      await recordStep(first.sandbox, n, (e) => first.live.append(e), undefined, first.keeper);
    }
    first.live.flush();
    log('200 steps recorded');
    await first.dispose();
    const open = async (): Promise<number> => {
      const t = performance.now();
      const r = await Reproduction.open(settings, id, hooks);
      const ms = performance.now() - t;
      await r.dispose();
      return ms;
    };
    const withC: number[] = [];
    const without: number[] = [];
    await open(); // warm up
    for (let i = 0; i < 3; i++) {
      withC.push(await open());
      await removeSandbox(id);
      without.push(await open());
      log(`resume with ${withC.at(-1)?.toFixed(0)} ms, without ${without.at(-1)?.toFixed(0)} ms`);
    }
    rows.push(
      row(
        'resume a 200-step session without its container vs with it',
        'ms',
        median(without),
        median(withC),
        { max: 3 },
        'median of 3; Reproduction.open: without = new container + host history imported + workspace restored to step 200',
      ),
    );
  } finally {
    await removeSandbox(id).catch(() => undefined);
    rmSync(ws, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const log = (m: string) => process.env.KLONG_DEBUG && console.error(`[history bench] ${m}`);

export default async function bench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  await perStepCost(rows);
  await resumeWithoutContainer(rows);
  return rows;
}
