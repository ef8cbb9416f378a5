/** `klong reproduce`'s options: its usage and the parsing into ReproduceOptions. */
import {
  apiKeyFrom,
  defaultStateDir,
  durationOption,
  LIMITS_USAGE,
  numberOption,
  PRICE_USAGE,
  parseCommandArgs,
} from './args';
import { earlyEndOptions } from './early-end-options';
import { CliError, type ReproduceOptions } from './reproduce';
import { RUN_OPTIONS, runOptions } from './run-options';

export const REPRODUCE_USAGE = `Usage: klong reproduce <paper> --workspace DIR [options]
       klong reproduce --resume ID [--state-dir D]

Options:
  --workspace DIR        Folder the agent works on (copied into the container; created if missing)
  --rubric FILE          PaperBench rubric.json: summarised in the agent's context, used to grade
                         (without it, the model writes one from the paper first, as VS Code does)
  --no-rubric            No rubric: none is generated and the session is not graded
  --blacklist FILE       PaperBench blacklist.txt (the paper's own repositories are added)
  --model M              Model name (default $KLONG_MODEL or gpt-4.1)
  --base-url U           OpenAI-compatible endpoint (default $OPENAI_BASE_URL or https://api.openai.com/v1)
  --budget T             Active time budget, e.g. 12h, 90m (default 12h)
  --spend-cap USD        Stop (resumable) when the cost reaches this (default none)
${PRICE_USAGE}
  --context-limit N      Model context window in tokens (default 128000)
  --min-budget-use F     An end_task before this share of the budget is used is graded against the
                         rubric first, and refused while requirements are unmet (default 0.5; 0: off)
  --early-end-target F   Score (0-1) at which such an end is accepted (default 1)
  --early-end-checks N   At most N refusals, then the end is accepted (default 3)
  --approval MODE        auto-accept (write changes into the workspace as they come) or review (a patch
                         to apply). Default: auto-accept for a new or empty workspace, else review;
                         a resume keeps the session's mode. Sensitive files always wait for review.
                         ask-each: each change is asked in an attached VS Code window (none: it waits
                         for review)
  --state-dir D          Where sessions are kept (default ~/.klong/sessions)
  --resume ID            Continue a session where it stopped
  --session-id ID        Id for a new session (default: generated)
  --network MODE         Container network: bridge (default) or none
  --image IMG            Container image (skips the workspace's devcontainer.json)
  --gpus G               GPUs for the container and the final run: none (default: only what
                         devcontainer.json asks for), all, a count (2) or device ids (0,1)
  --default-image IMG    Image when the workspace has no devcontainer.json (default klong/python:bookworm)
${LIMITS_USAGE}
  --max-steps N          Stop after N steps (resumable)
  --request-timeout S    A model response silent for S seconds is retried (default 120)
  --no-final-run         Do not run reproduce.sh in a fresh container at the end
  --keep-container       Keep the container after the session ends
  --detach               Run the session in an engine process of its own and return (prints its id);
                         follow it with "klong attach ID", stop it with "klong stop ID"
  --wait-for-client      Questions (spend cap) wait for a VS Code window to attach and answer instead
                         of stopping the session (VS Code starts its engines so)
  --label K=V            Extra container label (repeatable)
  --json                 At the end, one JSON object on stdout: session, status, reason, grade, report,
                         pending edits, patch, resume command (progress and messages stay on stderr)

The API key is read from KLONG_API_KEY or OPENAI_API_KEY. Ctrl-C saves the session and exits (130).`;

export function parseReproduceArgs(args: string[], env: NodeJS.ProcessEnv): ReproduceOptions | 'help' {
  const parsed = parseCommandArgs('reproduce', REPRODUCE_USAGE, args, {
    workspace: { type: 'string' },
    rubric: { type: 'string' },
    'no-rubric': { type: 'boolean' },
    blacklist: { type: 'string' },
    budget: { type: 'string' },
    'min-budget-use': { type: 'string' },
    'early-end-target': { type: 'string' },
    'early-end-checks': { type: 'string' },
    approval: { type: 'string' },
    'state-dir': { type: 'string' },
    resume: { type: 'string' },
    'session-id': { type: 'string' },
    'default-image': { type: 'string' },
    'wait-for-client': { type: 'boolean' },
    'request-timeout': { type: 'string' },
    'keep-container': { type: 'boolean' },
    detach: { type: 'boolean' },
    json: { type: 'boolean' },
    ...RUN_OPTIONS,
    help: { type: 'boolean', short: 'h' },
  });
  const v = parsed.values;
  if (v.help) return 'help';
  if (parsed.positionals.length > 1)
    throw new CliError(`klong reproduce: one paper at a time (got ${parsed.positionals.length}).`);
  if (v.json && v.detach)
    throw new CliError(
      'klong reproduce: --json reports a run in the foreground; a detached run is listed by "klong sessions --json".',
    );
  const apiKey = apiKeyFrom('reproduce', env);
  if (v.rubric && v['no-rubric'])
    throw new CliError('klong reproduce: --rubric and --no-rubric contradict each other; give one.');
  const approval = v.approval;
  if (
    approval !== undefined &&
    approval !== 'auto-accept' &&
    approval !== 'review' &&
    approval !== 'ask-each'
  ) {
    throw new CliError(`--approval must be auto-accept, review or ask-each, got "${approval}".`);
  }
  const budgetMs = durationOption('budget', v.budget);
  const requestTimeout = numberOption('request-timeout', v['request-timeout']);
  const earlyEnd = earlyEndOptions(v);
  return {
    ...runOptions(v, env),
    ...(parsed.positionals[0] ? { paper: parsed.positionals[0] } : {}),
    ...(v.workspace ? { workspace: v.workspace } : {}),
    ...(v.rubric ? { rubric: v.rubric } : {}),
    generateRubric: !v.rubric && !v['no-rubric'],
    ...(v.blacklist ? { blacklist: v.blacklist } : {}),
    apiKey,
    ...(budgetMs !== undefined ? { budgetMs } : {}),
    stateDir: v['state-dir'] ?? defaultStateDir(),
    ...(v.resume ? { resume: v.resume } : {}),
    ...(v['session-id'] ? { sessionId: v['session-id'] } : {}),
    ...(approval ? { approval } : {}),
    ...(v['default-image'] ? { defaultImage: v['default-image'] } : {}),
    ...(v['wait-for-client'] ? { waitForClient: true } : {}),
    ...(requestTimeout !== undefined ? { stallTimeoutMs: requestTimeout * 1000 } : {}),
    keepContainer: !!v['keep-container'],
    detach: !!v.detach,
    ...(v.json ? { json: true } : {}),
    ...(Object.keys(earlyEnd).length ? { earlyEnd } : {}),
  };
}
