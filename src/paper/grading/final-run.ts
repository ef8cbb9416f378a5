/** Final reproduction: run reproduce.sh with a time limit and keep its log (the grade reads it). */

/** Runs a shell command where the submission lives (a fresh container from the session's image). */
export interface ReproductionRunner {
  run(
    command: string,
    timeoutMs: number,
    onOutput?: (chunk: string) => void,
  ): Promise<{ exitCode: number | null; output: string; timedOut?: boolean }>;
}

export interface ReproductionResult {
  /** False when the submission has no reproduce.sh. */
  ran: boolean;
  exitCode: number | null;
  timedOut: boolean;
  /** What reproduce.sh printed (stdout and stderr), with a note when it was stopped. */
  log: string;
  durationMs: number;
}

const MISSING = '__KLONG_NO_REPRODUCE_SH__';

export async function runReproduction(
  runner: ReproductionRunner,
  opts: { timeoutMs: number; now?: () => number; onOutput?: (chunk: string) => void },
): Promise<ReproductionResult> {
  const now = opts.now ?? Date.now;
  const t0 = now();
  const check = await runner.run(`test -f reproduce.sh || echo ${MISSING}`, 30_000);
  if (check.output.includes(MISSING)) {
    return {
      ran: false,
      exitCode: null,
      timedOut: false,
      log: 'reproduce.sh not found in the submission.',
      durationMs: now() - t0,
    };
  }
  // tee keeps a complete reproduce.log in the submission even when the runner caps what it returns.
  // In its own bash so that pipefail (exit code of reproduce.sh, not tee) does not touch the caller's shell.
  const res = await runner.run(
    `bash -c 'set -o pipefail; bash reproduce.sh 2>&1 | tee reproduce.log'`,
    opts.timeoutMs,
    opts.onOutput,
  );
  const timedOut = res.timedOut ?? res.exitCode === null;
  let log = res.output;
  if (timedOut)
    log += `\n[reproduce.sh was stopped at the time limit of ${Math.round(opts.timeoutMs / 1000)} s]`;
  else if (res.exitCode !== 0) log += `\n[reproduce.sh exited with code ${res.exitCode}]`;
  return { ran: true, exitCode: res.exitCode, timedOut, log, durationMs: now() - t0 };
}
