/** Running the built `klong` CLI in tests: the child process, a test image, and clean-up after a file. */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { readControlInfo } from '../../src/session/control-file';
import { PAPER_MD } from './agent-harness';
import { dockerProblem, removeContainers, skipUnlessRequired } from './docker';
import { type ModelServer, type ModelServerOptions, type Script, startModelServer } from './model-server';

export const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
const IMAGES = [process.env.KLONG_CLI_TEST_IMAGE, 'klong/python-min:bookworm', 'klong/python:bookworm'];

/** The first test image present on the engine. */
export const TEST_IMAGE = IMAGES.find((i) => i && spawnSync('docker', ['image', 'inspect', i]).status === 0);

/**
 * Why CLI tests with containers cannot run here, or false (printed when skipping). `image`: the one
 * image the file needs instead of the first of the test images. Under KLONG_REQUIRE_DOCKER=1 it throws.
 */
export function cliDockerSkip(image?: string): string | false {
  const why = skipUnlessRequired(cliDockerProblem(image));
  if (why) console.log(`# ${why}; skipped`);
  return why;
}

function cliDockerProblem(image?: string): string | false {
  if (!existsSync(CLI)) return 'dist/cli.js is missing: run `npm run build` first';
  if (image) return dockerProblem(image);
  const why = dockerProblem();
  if (why) return why;
  if (!TEST_IMAGE) return `none of the test images is present (${IMAGES.filter(Boolean).join(', ')})`;
  return false;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  /** Called with the child once it is spawned (to signal it mid-run). */
  onChild?: (c: ChildProcess) => void;
  /** Set (a string) or unset (undefined) variables over the minimal environment. */
  env?: Record<string, string | undefined>;
  /** SIGKILL the child if it is still running after this long, so a hung CLI cannot hang the test. */
  killAfterMs?: number;
}

/** `node dist/cli.js ...args` with a minimal environment (no host secrets) and a test API key. */
export function runCli(args: string[], opts: CliRunOptions = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        KLONG_API_KEY: 'sk-test',
        DOCKER_HOST: process.env.DOCKER_HOST,
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => {
      stdout += b;
    });
    child.stderr.on('data', (b) => {
      stderr += b;
    });
    opts.onChild?.(child);
    const timer = opts.killAfterMs ? setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs) : undefined;
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * What a CLI test file leaves behind, removed after the file: temp directories, model servers, and
 * the containers with the labels given to `removeLabel`.
 */
export function cliCleanup() {
  const temps: string[] = [];
  const servers: ModelServer[] = [];
  const labels: string[] = [];
  const engines: number[] = [];
  after(async () => {
    // Detached engines first: one still running would recreate what is removed below.
    for (const pid of engines) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already ended
      }
    }
    await Promise.all(servers.map((s) => s.close()));
    for (const l of labels) removeContainers(l);
    for (const t of temps) rmSync(t, { recursive: true, force: true });
  });
  const temp = (prefix: string): string => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    temps.push(d);
    return d;
  };
  const removeLabel = (label: string): void => {
    labels.push(label);
  };
  return {
    temp,
    removeLabel,
    /** A detached engine (`--detach`) to kill at the end, whatever the test left running. */
    engine(pid: number): void {
      engines.push(pid);
    },
    /**
     * `klong … --detach` for session `s`: it must return 0 with an engine serving the session (killed
     * at the end). The CLI's run, the session folder and the engine's pid.
     */
    async detach(s: CliSession, args: string[]): Promise<{ run: CliRun; dir: string; pid: number }> {
      const run = await runCli([...args, '--detach'], { killAfterMs: 180_000 });
      assert.equal(run.code, 0, run.stderr);
      const dir = join(s.stateDir, s.sessionId);
      const info = readControlInfo(dir);
      assert.ok(info, 'control.json names the engine');
      engines.push(info.pid);
      return { run, dir, pid: info.pid };
    },
    async modelServer(script: Script, opts?: ModelServerOptions): Promise<ModelServer> {
      const s = await startModelServer(script, opts);
      servers.push(s);
      return s;
    },
    /** For `klong reproduce`: a workspace with a README, a state folder, the tiny paper, a session id. */
    session(name: string): CliSession {
      const workspace = temp('klong-cli-ws-');
      writeFileSync(join(workspace, 'README.md'), '# Reproduction\n');
      const stateDir = temp('klong-cli-state-');
      const paper = join(temp('klong-cli-paper-'), 'paper.md');
      writeFileSync(paper, PAPER_MD);
      const sessionId = `cli-${name}-${process.pid}-${Date.now().toString(36)}`;
      removeLabel(`klong.session=${sessionId}`);
      return { workspace, stateDir, paper, sessionId };
    },
  };
}

export interface CliSession {
  workspace: string;
  stateDir: string;
  paper: string;
  sessionId: string;
}

/**
 * `klong reproduce` of `s` against the scripted model at `baseUrl`: model test-model, network none,
 * the test image and label, a 1 h budget, `opts.rubric`, else no rubric (none generated: the scripts do not answer a rubric request),
 * and no early-end check unless `opts.minBudgetUse` is given.
 */
export function reproduceArgs(
  s: CliSession,
  baseUrl: string,
  opts: { rubric?: string; minBudgetUse?: string } = {},
): string[] {
  return [
    'reproduce',
    s.paper,
    '--workspace',
    s.workspace,
    '--state-dir',
    s.stateDir,
    '--session-id',
    s.sessionId,
    '--model',
    'test-model',
    '--base-url',
    baseUrl,
    '--network',
    'none',
    '--image',
    TEST_IMAGE!,
    '--label',
    'klong.test=1',
    '--budget',
    '1h',
    ...(opts.rubric ? ['--rubric', opts.rubric] : ['--no-rubric']),
    // No early-end check unless a test asks for one: the scripts judge only at the end.
    '--min-budget-use',
    opts.minBudgetUse ?? '0',
  ];
}

/** `klong reproduce --resume` of `s` against the scripted model at `baseUrl` (test model and label). */
export function resumeArgs(s: Pick<CliSession, 'sessionId' | 'stateDir'>, baseUrl: string): string[] {
  return [
    'reproduce',
    '--resume',
    s.sessionId,
    '--state-dir',
    s.stateDir,
    '--model',
    'test-model',
    '--base-url',
    baseUrl,
    '--label',
    'klong.test=1',
  ];
}

/** The events of a session as written to its log (the header line left out). */
export function sessionEvents(stateDir: string, sessionId: string) {
  return readFileSync(join(stateDir, sessionId, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => JSON.parse(l) as { type: string; [k: string]: unknown });
}

/** `klong attach` as a child whose output (stdout and stderr) is collected as it comes. */
export function attachCli(
  id: string,
  stateDir: string,
): { child: ChildProcess; out: () => string; done: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, 'attach', id, '--state-dir', stateDir], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DOCKER_HOST: process.env.DOCKER_HOST },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (b) => {
    text += b;
  });
  child.stderr!.on('data', (b) => {
    text += b;
  });
  const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, out: () => text, done };
}

/** Polls `check` every 100 ms; fails naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs = 120_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
