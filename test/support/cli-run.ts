/** Running the built `klong` CLI in tests: the child process, a test image, and container clean-up. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
const IMAGES = [process.env.KLONG_CLI_TEST_IMAGE, 'klong/python-min:bookworm', 'klong/python:bookworm'];

/** The first test image present on the engine. */
export const TEST_IMAGE = IMAGES.find((i) => i && spawnSync('docker', ['image', 'inspect', i]).status === 0);

/** Why CLI tests with containers cannot run here, or false. */
export function cliDockerSkip(): string | false {
  const why = cliDockerProblem();
  // CI sets KLONG_REQUIRE_DOCKER=1: there a missing engine or image is a failure, not a skip.
  if (why && process.env.KLONG_REQUIRE_DOCKER === '1') throw new Error(`KLONG_REQUIRE_DOCKER=1 but ${why}`);
  return why;
}

function cliDockerProblem(): string | false {
  if (!existsSync(CLI)) return 'dist/cli.js is missing: run `npm run build` first';
  if (spawnSync('docker', ['info'], { timeout: 20_000 }).status !== 0) return 'Docker is not available';
  if (!TEST_IMAGE) return `none of the test images is present (${IMAGES.filter(Boolean).join(', ')})`;
  return false;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `node dist/cli.js ...args` with a minimal environment (no host secrets) and a test API key. */
export function runCli(args: string[], onChild?: (c: ChildProcess) => void): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        KLONG_API_KEY: 'sk-test',
        DOCKER_HOST: process.env.DOCKER_HOST,
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
    onChild?.(child);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Remove the containers with this label (only ones the test created carry it). */
export function removeContainers(label: string): void {
  const ids = spawnSync('docker', ['ps', '-aq', '--filter', `label=${label}`], {
    encoding: 'utf8',
  }).stdout.trim();
  if (ids) spawnSync('docker', ['rm', '-f', ...ids.split('\n')]);
}

/** Containers with this label, by the value of another label. */
export function containersBy(label: string, show: string): string[] {
  const out = spawnSync(
    'docker',
    ['ps', '-a', '--filter', `label=${label}`, '--format', `{{.Label "${show}"}}`],
    {
      encoding: 'utf8',
    },
  ).stdout.trim();
  return out ? out.split('\n') : [];
}
