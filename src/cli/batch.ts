/** `klong batch papers.json --stages 2h,4h,12h --concurrency N`: staged runs of many papers, resumable. */
import { resolve } from 'node:path';
import { BATCH_FILE, type BatchOptions, runBatch } from '../engine/batch';
import { parseStages } from '../engine/batch-papers';
import { apiKeyFrom, LIMITS_USAGE, numberOption, PRICE_USAGE, parseCommandArgs } from './args';
import { CliError, type CliIO } from './reproduce';
import { RUN_OPTIONS, runOptions } from './run-options';

export const BATCH_USAGE = `Usage: klong batch papers.json [--stages 2h,4h,12h] [--concurrency N] [--out DIR] [options]

Runs every paper of papers.json once per stage, with the stage's time budget (KLong's progressive
schedule: stage 2 starts when stage 1 has finished). Each run is its own session, container and
workspace; its rubric score is recorded as its reward. Run the same command again to continue a
batch that was interrupted: finished runs are kept, interrupted sessions resume.

papers.json: [{"id": "adam", "paper": "adam.pdf", "rubric": "adam/rubric.json",
               "blacklist": "adam/blacklist.txt", "workspace": "adam/start"}, ...]
(paths relative to papers.json; without a rubric one is generated from the paper)

Options:
  --stages LIST          Time budget per stage, growing (default 2h,4h,12h)
  --concurrency N        Papers run at once (default 1)
  --out DIR              Batch folder: ${BATCH_FILE}, summary.csv, summary.md, sessions/, workspaces/
                         (default ./klong-batch)
  --model M              Model name (default $KLONG_MODEL or gpt-4.1)
  --base-url U           OpenAI-compatible endpoint (default $OPENAI_BASE_URL or https://api.openai.com/v1)
  --context-limit N      Model context window in tokens (default 128000)
  --spend-cap USD        Per run: stop it (resumable) when its cost reaches this
${PRICE_USAGE}
  --network MODE         Container network: bridge (default) or none
  --image IMG            Container image for every run
  --gpus G               GPUs for every run: none (default), all, a count (2) or device ids (0,1)
${LIMITS_USAGE}
  --docker-host H        Docker engine (default $DOCKER_HOST, then the local socket)
  --max-steps N          Per run: stop after N steps (resumable)
  --no-final-run         Do not run reproduce.sh in a fresh container before grading
  --keep-containers      Keep each run's container after it finishes
  --label K=V            Extra container label (repeatable)

The API key is read from KLONG_API_KEY or OPENAI_API_KEY. Ctrl-C stops the running sessions
resumably and exits (130); the same command continues the batch.`;

/** What `klong batch` was asked to do, its options checked. */
type BatchRequest = Omit<BatchOptions, 'say' | 'onWarning'>;

export async function batchCommand(args: string[], io: CliIO, env: NodeJS.ProcessEnv): Promise<number> {
  const request = parseBatchArgs(args, env);
  if (request === 'help') {
    io.out.write(`${BATCH_USAGE}\n`);
    return 0;
  }
  const ctrl = new AbortController();
  let interrupts = 0;
  const unregister = io.onInterrupt(() => {
    interrupts++;
    if (interrupts === 1) {
      io.err.write('Interrupted: saving the running sessions (Ctrl-C again to quit at once)…\n');
      ctrl.abort();
    } else process.exit(130);
  });
  let result: Awaited<ReturnType<typeof runBatch>>;
  try {
    result = await runBatch(
      {
        ...request,
        say: (m) => io.err.write(`${m}\n`),
        onWarning: (m) => io.err.write(`warning: ${m}\n`),
      },
      ctrl.signal,
    );
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`klong batch: ${err instanceof Error ? err.message : String(err)}`, 1);
  } finally {
    unregister();
  }
  return reportBatch(result, request.outDir, ctrl.signal.aborted, io);
}

function parseBatchArgs(args: string[], env: NodeJS.ProcessEnv): BatchRequest | 'help' {
  const parsed = parseCommandArgs('batch', BATCH_USAGE, args, {
    stages: { type: 'string' },
    concurrency: { type: 'string' },
    out: { type: 'string' },
    'docker-host': { type: 'string' },
    'keep-containers': { type: 'boolean' },
    ...RUN_OPTIONS,
    help: { type: 'boolean', short: 'h' },
  });
  const v = parsed.values;
  if (v.help) return 'help';
  if (parsed.positionals.length !== 1)
    throw new CliError(
      `klong batch: give one papers.json (got ${parsed.positionals.length}).\n\n${BATCH_USAGE}`,
    );
  const apiKey = apiKeyFrom('batch', env);
  let stages: ReturnType<typeof parseStages>;
  try {
    stages = parseStages(v.stages ?? '2h,4h,12h');
  } catch (err) {
    throw new CliError(`klong batch: ${(err as Error).message}`);
  }
  const concurrency = numberOption('concurrency', v.concurrency, { integer: true }) ?? 1;
  const { model, baseUrl, contextLimit, prices, ...run } = runOptions(v, env);
  const dockerHost = v['docker-host'] ?? env.DOCKER_HOST;
  return {
    papersFile: resolve(parsed.positionals[0]!),
    stages,
    concurrency,
    outDir: resolve(v.out ?? 'klong-batch'),
    settings: {
      model: { baseUrl, apiKey, name: model, contextLimit, ...(prices ? { prices } : {}) },
      approval: 'auto-accept',
      ...run,
      ...(dockerHost ? { dockerHost } : {}),
    },
    removeContainers: !v['keep-containers'],
  };
}

/** The mean reward of each stage, and whether the batch is complete (0), interrupted (130) or not (1). */
function reportBatch(
  { state, unfinished }: Awaited<ReturnType<typeof runBatch>>,
  outDir: string,
  interrupted: boolean,
  io: CliIO,
): number {
  io.out.write(`Summary: ${resolve(outDir, 'summary.md')} and summary.csv\n`);
  for (const [i, s] of state.stages.entries()) {
    const graded = state.runs.filter((r) => r.stage === i && r.status === 'done' && r.reward !== null);
    const mean = graded.length ? graded.reduce((a, r) => a + r.reward!, 0) / graded.length : undefined;
    io.out.write(
      `  stage ${i + 1} (${s.label}): ${graded.length} graded run(s)${mean === undefined ? '' : `, mean reward ${mean.toFixed(3)}`}\n`,
    );
  }
  if (interrupted) {
    io.err.write(`Batch interrupted; continue it with the same command.\n`);
    return 130;
  }
  if (unfinished) {
    io.err.write(
      `${unfinished} run(s) did not finish (see ${BATCH_FILE}); run the same command again to resume them.\n`,
    );
    return 1;
  }
  return 0;
}
