/** One-off commands in a container through the Engine API (create + start + inspect). */
import { createWriteStream } from 'node:fs';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { SandboxError } from './errors';
import { Demuxer } from './output-buffer';
import { ansiCQuote, hasEscapedBytes } from './path-bytes';

export interface RunOptions {
  user?: string;
  env?: string[];
  workdir?: string;
  /** Bytes written to the command's stdin (then stdin is closed). */
  stdin?: Buffer;
  /** Stop collecting stdout beyond this many bytes (the command still runs to the end). */
  maxStdout?: number;
}

export interface RunResult {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
  stdoutTruncated: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Clear error for a container that stopped or vanished under us; undefined if it is still running. */
export async function containerGoneError(container: Docker.Container): Promise<SandboxError | undefined> {
  try {
    const info = await container.inspect();
    if (info.State.Running) return undefined;
    const why = info.State.OOMKilled
      ? 'it ran out of memory (OOM-killed)'
      : `it exited with code ${info.State.ExitCode}`;
    return new SandboxError(
      'CONTAINER_GONE',
      `The sandbox container stopped: ${why}.`,
      info.State.OOMKilled
        ? 'Raise klong.docker.memoryLimit or make the command use less memory; the sandbox is restarted on the next open.'
        : 'Open the session again: the container is restarted with its files intact.',
    );
  } catch {
    return new SandboxError(
      'CONTAINER_GONE',
      'The sandbox container no longer exists.',
      'Open the session again: a new container is created from the workspace and the session log.',
    );
  }
}

/** Exit code of a finished exec; the engine can report Running for a moment after the stream ends. */
export async function execExitCode(exec: Docker.Exec): Promise<number | null> {
  for (let i = 0; i < 100; i++) {
    const info = await exec.inspect();
    if (!info.Running) return info.ExitCode ?? null;
    await sleep(Math.min(5 * (i + 1), 50));
  }
  return null;
}

export async function runInContainer(
  container: Docker.Container,
  cmd: string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const exec = await container.exec({
    Cmd: cmd,
    AttachStdout: true,
    AttachStderr: true,
    AttachStdin: opts.stdin !== undefined,
    User: opts.user,
    Env: opts.env,
    WorkingDir: opts.workdir,
  });
  const stream = (await exec.start({ hijack: true, stdin: opts.stdin !== undefined })) as Duplex;
  const out: Buffer[] = [];
  let outLen = 0;
  let truncated = false;
  const err: Buffer[] = [];
  const max = opts.maxStdout ?? Number.POSITIVE_INFINITY;
  const demux = new Demuxer((type, data) => {
    if (type === 2) {
      if (err.reduce((n, b) => n + b.length, 0) < 64 * 1024) err.push(Buffer.from(data));
      return;
    }
    if (outLen >= max) {
      truncated = true;
      return;
    }
    const keep = data.length > max - outLen ? data.subarray(0, max - outLen) : data;
    if (keep.length < data.length) truncated = true;
    out.push(Buffer.from(keep));
    outLen += keep.length;
  });
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (c: Buffer) => demux.push(c));
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
    if (opts.stdin !== undefined) stream.end(opts.stdin);
  });
  const code = await execExitCode(exec).catch(() => null);
  if (code === null) {
    const gone = await containerGoneError(container);
    if (gone) throw gone;
  }
  return {
    exitCode: code ?? -1,
    stdout: Buffer.concat(out),
    stderr: Buffer.concat(err).toString('utf8'),
    stdoutTruncated: truncated,
  };
}

/** Runs a bash script (passed as an argument, not through a shell string) and returns stdout; throws on failure. */
export async function bashScript(
  container: Docker.Container,
  script: string,
  args: string[] = [],
  opts: RunOptions = {},
): Promise<RunResult> {
  return runInContainer(container, bashCmd(script, args), opts);
}

/**
 * `bash -c script klong args...`. The Engine API takes the command as JSON text, where a file name's
 * bytes that are not UTF-8 cannot travel: such arguments are set inside the script, ANSI-C quoted.
 */
export function bashCmd(script: string, args: string[]): string[] {
  if (!args.some(hasEscapedBytes)) return ['bash', '-c', script, 'klong', ...args];
  return ['bash', '-c', `set -- ${args.map(ansiCQuote).join(' ')}\n${script}`, 'klong'];
}

/**
 * Runs a command and streams its stdout into a new host file, with backpressure (the container's
 * output is paused while the disk catches up), so memory stays bounded whatever the size.
 */
export async function streamToFile(
  container: Docker.Container,
  cmd: string[],
  hostFile: string | Buffer,
  opts: Omit<RunOptions, 'stdin' | 'maxStdout'> = {},
): Promise<{ exitCode: number; stderr: string; bytes: number }> {
  const out = createWriteStream(hostFile, { flags: 'wx', highWaterMark: 1024 * 1024 });
  let failed: unknown;
  out.on('error', (e) => {
    failed ??= e;
  });
  let bytes = 0;
  try {
    const r = await runStreaming(
      container,
      cmd,
      (chunk) => {
        if (failed) return Promise.reject(failed);
        bytes += chunk.length;
        if (out.write(chunk)) return;
        return new Promise<void>((resolve, reject) => {
          const onError = (e: unknown) => {
            out.off('drain', onDrain);
            reject(e);
          };
          const onDrain = () => {
            out.off('error', onError);
            resolve();
          };
          out.once('drain', onDrain);
          out.once('error', onError);
        });
      },
      opts,
    );
    if (failed) throw failed;
    return { ...r, bytes };
  } finally {
    // A stream that failed is already closed: end() would wait for a 'finish' that never comes.
    if (!out.destroyed) await new Promise<void>((resolve) => out.end(resolve));
  }
}

/**
 * Runs a command and hands its stdout on chunk by chunk as it arrives: the engine's stream is
 * paused while `onStdout`'s promise is pending, so memory stays bounded whatever the output size.
 */
export async function runStreaming(
  container: Docker.Container,
  cmd: string[],
  onStdout: (chunk: Buffer) => Promise<void> | void,
  opts: Omit<RunOptions, 'stdin' | 'maxStdout'> = {},
): Promise<{ exitCode: number; stderr: string }> {
  const exec = await container.exec({
    Cmd: cmd,
    AttachStdout: true,
    AttachStderr: true,
    User: opts.user,
    Env: opts.env,
    WorkingDir: opts.workdir,
  });
  const stream = (await exec.start({ hijack: true, stdin: false })) as Duplex;
  const err: Buffer[] = [];
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown;
  const demux = new Demuxer((type, data) => {
    if (type === 2) {
      if (err.reduce((n, b) => n + b.length, 0) < 64 * 1024) err.push(Buffer.from(data));
      return;
    }
    const chunk = Buffer.from(data);
    const r = failure ? undefined : onStdout(chunk);
    if (r) {
      stream.pause();
      // Handled at once (a rejection must not wait for the chain to reach it).
      const settled = r.then(
        () => {
          stream.resume();
        },
        (e: unknown) => {
          failure ??= e;
          stream.destroy();
        },
      );
      chain = chain.then(() => settled);
    }
  });
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (c: Buffer) => demux.push(c));
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', (e) => (failure ? resolve() : reject(e)));
  });
  await chain;
  if (failure) throw failure;
  const code = await execExitCode(exec).catch(() => null);
  if (code === null) {
    const gone = await containerGoneError(container);
    if (gone) throw gone;
  }
  return { exitCode: code ?? -1, stderr: Buffer.concat(err).toString('utf8') };
}
