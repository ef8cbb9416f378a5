/**
 * The step history kept on the host (history.git in the session folder), on the real Docker engine,
 * against baselines measured in the same run:
 * - Per-step cost of the host copy of a step (thin pack of the step's new objects from the
 *   container's shadow git into history.git: index-pack + update-ref) at step 10,000 vs at step 100
 *   (goal ≤ 1.5×), and of the whole recordStep (commitStep + copy). Two sessions, one at each step,
 *   measured in turns (the machine's load weighs on both alike). The 10,000 steps are made quickly: a
 *   bash loop in the container runs commitStep's plumbing, and the host receives them 100 at a time
 *   (the same objects, and with the background geometric repack, a pack layout like one per step).
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

interface Session {
  id: string;
  ws: string;
  dir: string;
  sb: DockerSandbox;
  keeper: HistoryKeeper;
  step: number;
}

async function newSession(tag: string): Promise<Session> {
  const ws = mkdtempSync(join(tmpdir(), 'klong-bench-hist-'));
  const dir = mkdtempSync(join(tmpdir(), 'klong-bench-hist-session-'));
  const id = `bench-history-${tag}-${process.pid}`;
  sourceFiles(ws, 500);
  const sb = await openSandbox({
    workspace: ws,
    sessionId: id,
    network: 'none',
    image: IMAGE,
    labels: LABELS,
  });
  const keeper = new HistoryKeeper(dir, (m) => {
    throw new Error(m);
  });
  if (!(await keeper.mirror(sb))) throw new Error('mirror failed');
  return { id, ws, dir, sb, keeper, step: 0 };
}

/**
 * One real step: edit a file, then what recordStep does (commitStep, then the host copy), timed
 * apart: the commit is the container's own history (there before this bench's subject).
 */
async function realStep(s: Session): Promise<{ commit: number; copy: number }> {
  const n = ++s.step;
  const r = await s.sb.exec(`printf 'y = %d\\n' ${n} >> src/m${n % 500}.py`);
  if (r.exitCode !== 0) throw new Error(r.output);
  const t0 = performance.now();
  const c = await s.sb.commitStep(n);
  const t1 = performance.now();
  const ok = await s.keeper.mirror(s.sb);
  const t2 = performance.now();
  if (!c || !ok) throw new Error(`step ${n} was not recorded on the host`);
  return { commit: t1 - t0, copy: t2 - t1 };
}

/** Commits made in the container by a bash loop (commitStep's plumbing), sent to the host 100 at a time. */
async function fastForward(s: Session, to: number): Promise<void> {
  await realStep(s); // the step ref and its index exist from here on
  while (s.step < to) {
    const from = s.step + 1;
    const upto = Math.min(from + 99, to);
    const loop = await s.sb.exec(
      `export GIT_DIR=/var/lib/klong/shadow.git GIT_WORK_TREE=$PWD GIT_INDEX_FILE=/var/lib/klong/shadow.git/klong-steps.index
export GIT_AUTHOR_NAME=klong GIT_AUTHOR_EMAIL=klong@localhost GIT_COMMITTER_NAME=klong GIT_COMMITTER_EMAIL=klong@localhost
g() { git -c safe.directory='*' "$@"; }
prev=$(g rev-parse refs/klong/steps)
for ((n = ${from}; n <= ${upto}; n++)); do
  f=src/m$((n % 500)).py; printf 'y = %d\\n' $n >> $f
  g update-index -- $f; t=$(g write-tree)
  prev=$(g commit-tree $t -p $prev -m "step $n")
done; g update-ref refs/klong/steps $prev`,
      { timeoutMs: 600_000 },
    );
    if (loop.exitCode !== 0) throw new Error(`making commits failed: ${loop.output}`);
    if (!(await s.keeper.mirror(s.sb))) throw new Error('mirror failed');
    s.step = upto;
    if (upto % 1000 === 1) log(`step ${upto}: ${s.keeper.history.packCount()} packs on the host`);
  }
  // commitStep's own gc --auto would have packed the container's loose objects along the way.
  await s.sb.exec('git --git-dir=/var/lib/klong/shadow.git -c safe.directory=* repack -d -q', {
    timeoutMs: 600_000,
  });
  await s.keeper.history.settle();
}

async function perStepCost(rows: BenchRow[]): Promise<void> {
  const STEPS = Number(process.env.KLONG_BENCH_HISTORY_STEPS ?? 10_000);
  const sessions: Session[] = [];
  try {
    // Two sessions, one at step ~100 and one at step ~STEPS, measured in turns so that the load of
    // a shared machine weighs on both alike.
    const long = await newSession('long');
    sessions.push(long);
    await fastForward(long, STEPS - 40);
    const short = await newSession('short');
    sessions.push(short);
    for (let i = 0; i < 60; i++) await realStep(short);
    for (let i = 0; i < 5; i++) await realStep(long); // warm up
    const early: { commit: number; copy: number }[] = [];
    const late: { commit: number; copy: number }[] = [];
    for (let i = 0; i < 60; i++) {
      early.push(await realStep(short));
      late.push(await realStep(long));
    }
    const note = `median of 60 steps each, measured in turns; ${long.keeper.history.packCount()} packs on the host at the end; 500 source files`;
    rows.push(
      row(
        `host copy of a step (thin pack to history.git): step ${long.step} vs step ${short.step}`,
        'ms',
        median(late.map((x) => x.copy)),
        median(early.map((x) => x.copy)),
        { max: 1.5 },
        note,
      ),
      row(
        `record a step with its host copy (commitStep + copy): step ${long.step} vs step ${short.step}`,
        'ms',
        median(late.map((x) => x.commit + x.copy)),
        median(early.map((x) => x.commit + x.copy)),
        { max: 1.5 },
        note,
      ),
    );
  } finally {
    for (const s of sessions) {
      await s.sb.dispose().catch(() => undefined);
      await removeSandbox(s.id).catch(() => undefined);
      rmSync(s.ws, { recursive: true, force: true });
      rmSync(s.dir, { recursive: true, force: true });
    }
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
