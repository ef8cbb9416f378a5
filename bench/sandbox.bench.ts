/**
 * Sandbox performance against baselines measured in the same run, on the real Docker engine:
 * - command round trip through the persistent shell vs the `docker exec` CLI (goal ≤ 0.2× at p50);
 * - changes() after touching 10 files of a 10,000-file workspace vs re-reading the whole tree (goal < 0.1×);
 * - copy-in of a 100 MB workspace vs `docker cp` of the same folder.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar-stream';
import { type DockerSandbox, openSandbox, removeSandbox } from '../src/sandbox/index';
import { copyWorkspaceIn } from '../src/sandbox/new-container';
import { type BenchRow, median, percentile, row } from './types';

const IMAGE = process.env.KLONG_TEST_IMAGE ?? 'klong/python:bookworm';
const LABELS = { 'klong.test': '1' };

function workspace(files: number, bytesEach: number, random = false): string {
  const dir = mkdtempSync(join(tmpdir(), 'klong-bench-'));
  for (let i = 0; i < files; i++) {
    const sub = join(dir, `d${Math.floor(i / 100)}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(
      join(sub, `f${i}.txt`),
      random ? randomBytes(bytesEach) : `file ${i}\n${'x'.repeat(Math.max(0, bytesEach - 12))}\n`,
    );
  }
  return dir;
}

async function time<T>(fn: () => Promise<T>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** The naive way to find changes: read every file of the workspace out of the container and hash it. */
async function rereadTree(sb: DockerSandbox): Promise<number> {
  const archive = await sb.container.getArchive({ path: `${sb.workdir}/.` });
  const extract = tar.extract();
  let n = 0;
  await new Promise<void>((resolve, reject) => {
    extract.on('entry', (_h, stream, next) => {
      const h = createHash('sha1');
      stream.on('data', (d: unknown) => {
        h.update(d as Buffer);
      });
      stream.on('end', () => {
        h.digest('hex');
        n++;
        next();
      });
      stream.resume();
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
    archive.pipe(extract as unknown as NodeJS.WritableStream);
  });
  return n;
}

async function roundTrip(rows: BenchRow[]): Promise<void> {
  const ws = workspace(3, 10);
  const session = `bench-rt-${process.pid}`;
  try {
    const sb = await openSandbox({
      workspace: ws,
      sessionId: session,
      network: 'none',
      image: IMAGE,
      labels: LABELS,
    });
    for (let i = 0; i < 5; i++) await sb.exec('true');
    const ours: number[] = [];
    for (let i = 0; i < 60; i++) ours.push(await time(() => sb.exec('echo hi')));
    const cli: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      execFileSync('docker', ['exec', sb.info.containerId, 'echo', 'hi']);
      cli.push(performance.now() - t);
    }
    rows.push(
      row('shell round trip p50 (vs docker exec CLI)', 'ms', median(ours), median(cli), { max: 0.2 }),
      row('shell round trip p95 (vs docker exec CLI)', 'ms', percentile(ours, 95), percentile(cli, 95), {
        max: 0.2,
      }),
    );
  } finally {
    await removeSandbox(session);
    rmSync(ws, { recursive: true, force: true });
  }
}

async function changesBench(rows: BenchRow[]): Promise<void> {
  // 4 KB per file: a typical source file (the median .py in a research repo is a few KB).
  const ws = workspace(10_000, 4096);
  const session = `bench-ch-${process.pid}`;
  try {
    const sb = await openSandbox({
      workspace: ws,
      sessionId: session,
      network: 'none',
      image: IMAGE,
      labels: LABELS,
    });
    await sb.changes(); // warm the index stat cache, as a long session would have
    const ours: number[] = [];
    const base: number[] = [];
    let fromJournal = 0;
    for (let round = 0; round < 5; round++) {
      await sb.exec(`for i in $(seq 0 9); do echo "edit ${round}" >> d$((i * 7))/f$((i * 700)).txt; done`);
      let found = 0;
      ours.push(
        await time(async () => {
          found = (await sb.changes()).length;
        }),
      );
      if (found !== 10) throw new Error(`changes() found ${found} files, expected 10`);
      if (sb.lastChangesScan === 'journal') fromJournal++;
      base.push(await time(() => rereadTree(sb)));
      await sb.acceptIntoBaseline((await sb.changes()).map((c) => c.path));
    }
    rows.push(
      row(
        'changes() after 10 edits in 10,000 files (vs re-reading the tree)',
        'ms',
        median(ours),
        median(base),
        {
          max: 0.1,
          label: '< 0.1×',
        },
        `${fromJournal} of 5 answered from the change journal`,
      ),
    );
  } finally {
    await removeSandbox(session);
    rmSync(ws, { recursive: true, force: true });
  }
}

async function copyBench(rows: BenchRow[]): Promise<void> {
  // 100 MB: 40 random 2.5 MB files (data-like) + 2,000 small text files (code-like).
  const ws = workspace(2000, 1000);
  mkdirSync(join(ws, 'data'));
  for (let i = 0; i < 40; i++) writeFileSync(join(ws, 'data', `part${i}.bin`), randomBytes(2_450_000));
  const session = `bench-cp-${process.pid}`;
  try {
    const sb = await openSandbox({
      workspace: ws,
      sessionId: session,
      network: 'none',
      image: IMAGE,
      labels: LABELS,
    });
    const ours: number[] = [];
    const base: number[] = [];
    for (let i = 0; i < 3; i++) {
      await sb.exec('mkdir -p /copy-ours /copy-cli && rm -rf /copy-ours/* /copy-cli/*');
      ours.push(
        await time(() =>
          copyWorkspaceIn(sb.container, { workspace: ws, workdir: '/copy-ours', sizeLimit: 1e9 }),
        ),
      );
      const t = performance.now();
      const r = spawnSync('docker', ['cp', `${ws}/.`, `${sb.info.containerId}:/copy-cli`]);
      if (r.status !== 0) throw new Error(`docker cp failed: ${r.stderr}`);
      base.push(performance.now() - t);
    }
    const check = await sb.exec('du -sm /copy-ours | cut -f1');
    rows.push(
      row(
        'copy-in of a 100 MB workspace (vs docker cp)',
        'ms',
        median(ours),
        median(base),
        { max: 1.5 },
        `${check.output.trim()} MB in the container`,
      ),
    );
  } finally {
    await removeSandbox(session);
    rmSync(ws, { recursive: true, force: true });
  }
}

export default async function sandboxBench(): Promise<BenchRow[]> {
  const info = spawnSync('docker', ['image', 'inspect', IMAGE]);
  if (info.status !== 0)
    throw new Error(`Docker or the image ${IMAGE} is not available (scripts/build-default-image.sh)`);
  const rows: BenchRow[] = [];
  await roundTrip(rows);
  await changesBench(rows);
  await copyBench(rows);
  return rows;
}
