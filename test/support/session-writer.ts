/**
 * A child process that drives a session the way the CLI does (real EventLog + snapshots + lock),
 * for the kill -9 crash test. It resumes the session in --dir (or creates it), then runs steps of
 * four events each (the third one large, so kills land inside writes), ends each step with
 * endStep() (one fsync; a snapshot every --snapshot-every steps), and prints `ack <step> <seq>`
 * once the step is durable. KLONG_CRASH=<kind>:<n> makes it SIGKILL itself inside the n-th write
 * of a kind: `append` (half an event batch written), `snapshot` (half a snapshot temp file),
 * `rotate` (between the two snapshot renames), `fsync` (log written, not yet synced).
 */
import type { PathLike } from 'node:fs';
import { parseArgs } from 'node:util';
import { createSession, type LiveSession, resumeSession } from '../../src/session';

const fs = require('node:fs') as typeof import('node:fs');

export interface WriterState {
  step: number;
  digest: number;
  filler: string;
}

/** Deterministic payload of a step, so the parent can check every byte that was acked. */
export function payloadOf(step: number, minBytes: number, maxBytes: number): string {
  const size = minBytes + ((step * 2654435761) % Math.max(1, maxBytes - minBytes));
  const unit = `step-${step}|`;
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

export function mixDigest(digest: number, step: number): number {
  return (Math.imul(digest ^ step, 16777619) + step) >>> 0;
}

function installCrash(spec: string | undefined): void {
  if (!spec) return;
  const [kind, nStr] = spec.split(':');
  let left = Number(nStr);
  const paths = new Map<number, string>();
  const kill = () => process.kill(process.pid, 'SIGKILL');
  const origOpen = fs.openSync;
  fs.openSync = ((p: PathLike, ...rest: unknown[]) => {
    const fd = (origOpen as (...a: unknown[]) => number)(p, ...rest);
    paths.set(fd, String(p));
    return fd;
  }) as typeof fs.openSync;
  const hit = () => --left === 0;
  const origWrite = fs.writeSync;
  fs.writeSync = ((fd: number, buf: Buffer, off?: number, len?: number, pos?: number | null) => {
    const p = paths.get(fd) ?? '';
    const target =
      kind === 'append' ? p.endsWith('events.jsonl') : kind === 'snapshot' && p.endsWith('snapshot.json.tmp');
    if (target && Buffer.isBuffer(buf) && hit()) {
      const o = off ?? 0;
      const l = len ?? buf.length - o;
      origWrite(fd, buf, o, Math.max(1, Math.floor(l / 2)), pos ?? null);
      kill();
    }
    return (origWrite as (...a: unknown[]) => number)(fd, buf, off, len, pos);
  }) as typeof fs.writeSync;
  const origRename = fs.renameSync;
  fs.renameSync = (from: PathLike, to: PathLike) => {
    origRename(from, to);
    if (kind === 'rotate' && String(to).endsWith('snapshot.prev.json') && hit()) kill();
  };
  const origSync = fs.fdatasyncSync;
  fs.fdatasyncSync = (fd: number) => {
    if (kind === 'fsync' && (paths.get(fd) ?? '').endsWith('events.jsonl') && hit()) kill();
    origSync(fd);
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string' },
      'snapshot-every': { type: 'string', default: '3' },
      'min-bytes': { type: 'string', default: '4000' },
      'max-bytes': { type: 'string', default: '200000' },
      'filler-bytes': { type: 'string', default: '300000' },
      'max-steps': { type: 'string', default: '1000000' },
      durability: { type: 'string', default: 'step' },
    },
  });
  const dir = values.dir;
  if (!dir) throw new Error('--dir is required');
  const minBytes = Number(values['min-bytes']);
  const maxBytes = Number(values['max-bytes']);
  const fillerBytes = Number(values['filler-bytes']);
  const durability = values.durability === 'event' ? 'event' : 'step';
  installCrash(process.env.KLONG_CRASH);
  const onWarning = (m: string) => process.stderr.write(`warn ${m}\n`);
  const opts = {
    durability,
    snapshotEvery: Number(values['snapshot-every']),
    onWarning,
    lock: { label: 'crash-test writer', staleMs: 60_000 },
  } as const;
  let live: LiveSession;
  let state: WriterState;
  if (fs.existsSync(`${dir}/events.jsonl`)) {
    live = resumeSession(dir, opts);
    const snap = live.snapshot?.state as WriterState | undefined;
    state = snap ? { ...snap } : { step: 0, digest: 0, filler: '' };
    // Replay: a step counts once its checkpoint event is in the log.
    for (const e of live.tail) {
      if (e.type === 'checkpoint' && e.step === state.step + 1) {
        state.step = e.step;
        state.digest = mixDigest(state.digest, e.step);
      }
    }
  } else {
    live = createSession(
      dir,
      {
        sessionId: dir.split('/').pop()!,
        paperTitle: 'Crash test',
        paperPath: '/papers/crash.pdf',
        workspace: '/ws',
        model: 'scripted',
        budgetMs: 3_600_000,
      },
      opts,
    );
    live.append({ type: 'status', status: 'running' });
    live.flush();
    state = { step: 0, digest: 0, filler: '' };
  }
  process.stdout.write(`ready ${live.log.durableCount} ${state.step}\n`);
  const maxSteps = Number(values['max-steps']);
  for (let n = 0; n < maxSteps; n++) {
    const step = state.step + 1;
    live.append({ type: 'model_request', step, window: 0, promptTokens: step, messages: 2 });
    live.append({
      type: 'tool_call',
      step,
      callId: `c${step}`,
      name: 'bash',
      args: `{"cmd":"echo ${step}"}`,
    });
    live.append({
      type: 'tool_result',
      step,
      callId: `c${step}`,
      name: 'bash',
      ok: true,
      output: payloadOf(step, minBytes, maxBytes),
      durationMs: 1,
    });
    live.append({ type: 'checkpoint', step });
    state = { step, digest: mixDigest(state.digest, step), filler: 'f'.repeat(fillerBytes + (step % 97)) };
    live.endStep(() => state, { step });
    process.stdout.write(`ack ${step} ${live.log.durableCount - 1}\n`);
  }
  live.close();
  process.stdout.write('done\n');
}

if (require.main === module) main();
