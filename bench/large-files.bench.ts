/**
 * Peak memory of auto-accepting a 1 GB file the agent wrote in the container, against the file's
 * size (goal ≤ 0.1×): the accept runs in a child process (bench/host/accept-large.ts) whose RSS
 * growth from just before the accept to its peak is measured.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSandbox, removeSandbox } from '../src/sandbox/index';
import { type BenchRow, row } from './types';

const IMAGE = process.env.KLONG_TEST_IMAGE ?? 'klong/python-min:bookworm';
const SIZE_MB = Number(process.env.KLONG_BENCH_LARGE_MB ?? 1024);

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file)) h.update(c as Buffer);
  return h.digest('hex');
}

export default async function largeFilesBench(): Promise<BenchRow[]> {
  if (spawnSync('docker', ['image', 'inspect', IMAGE]).status !== 0)
    throw new Error(`Docker or the image ${IMAGE} is not available`);
  const ws = mkdtempSync(join(tmpdir(), 'klong-bench-large-'));
  const session = `bench-large-${process.pid}-${Date.now().toString(36)}`;
  try {
    const sb = await openSandbox({
      workspace: ws,
      sessionId: session,
      network: 'none',
      image: IMAGE,
      labels: { 'klong.test': '1' },
    });
    const w = await sb.exec(`head -c ${SIZE_MB}M /dev/urandom > weights.bin && sha256sum weights.bin`, {
      timeoutMs: 600_000,
    });
    if (w.exitCode !== 0) throw new Error(`writing the file failed: ${w.output}`);
    const inBox = w.output.trim().split(/\s+/)[0];
    await sb.dispose();
    const tsx = join(__dirname, '..', 'node_modules', '.bin', 'tsx');
    const r = spawnSync(tsx, [join(__dirname, 'host', 'accept-large.ts'), session, ws, IMAGE], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '--expose-gc' },
      timeout: 900_000,
    });
    if (r.status !== 0) throw new Error(`the accept failed: ${r.stderr || r.stdout}`);
    const m = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      before: number;
      peak: number;
      ms: number;
      outcomes: string[];
    };
    const file = join(ws, 'weights.bin');
    const size = statSync(file).size;
    if (size !== SIZE_MB * 1024 * 1024 || (await sha256(file)) !== inBox)
      throw new Error(`the accepted file differs from the container's (${m.outcomes.join('; ')})`);
    const growth = Math.max(0, m.peak - m.before);
    const MB = 1024 * 1024;
    return [
      row(
        `auto-accept of a ${SIZE_MB} MB file: peak memory growth vs file size`,
        'MB',
        growth / MB,
        size / MB,
        { max: 0.1 },
        `child RSS ${Math.round(m.before / MB)} MB before, ${Math.round(m.peak / MB)} MB peak; accept took ${(m.ms / 1000).toFixed(1)} s (${((size / MB / m.ms) * 1000).toFixed(0)} MB/s)`,
      ),
    ];
  } finally {
    await removeSandbox(session);
    rmSync(ws, { recursive: true, force: true });
  }
}
