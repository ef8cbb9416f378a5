/** `klong`: the headless command on the same engine as the extension. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { version as VERSION } from '../../package.json';
import type { RewindMode } from '../events/events';
import {
  apiKeyFrom,
  defaultStateDir,
  durationOption,
  gpusOption,
  LIMIT_OPTIONS,
  LIMITS_USAGE,
  labelOptions,
  limitOptions,
  networkOption,
  numberOption,
  PRICE_USAGE,
  parseCommandArgs,
  priceOption,
} from './args';
import { configureColour, paint } from './colour';
import { earlyEndOptions } from './early-end-options';
import { CliError, type CliIO, type ReproduceOptions, reproduce } from './reproduce';

const USAGE = `Usage: klong <command> [options]

Commands:
  reproduce <paper.pdf|paper.md|URL|arXiv id>   Reproduce a paper in a workspace
  paper <paper.pdf|URL|arXiv id> [--out F]      The paper as the agent reads it (Markdown)
  rubric check|show|generate ...                Validate, show or write a PaperBench rubric.json
  sessions [--json] [--prune]                   List the sessions (--prune: remove idle containers)
  attach SESSION                                Follow a running session (Ctrl-C detaches)
  say SESSION TEXT                              Send a message to the agent of a running session
  pause | resume | stop SESSION                 Steer a running session
  export-sft SESSION... --out data.jsonl        Sessions as KLong trajectory-splitting SFT data
  batch papers.json --stages 2h,4h,12h          Staged runs of many papers, rubric score as reward
  rewind SESSION --to STEP [--code|--conversation]  Go back to a step (default: code and conversation)
  diff SESSION [--from N] [--to M]              Unified diff of the files between two steps
  help                                          Show this help

Run "klong <command> --help" for the options of a command; "klong --version" prints the version.
--no-color (or NO_COLOR set) turns colour off; output to a pipe has none anyway.`;

const REPRODUCE_USAGE = `Usage: klong reproduce <paper> --workspace DIR [options]
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

export function defaultIO(): CliIO {
  return {
    out: process.stdout,
    err: process.stderr,
    onInterrupt(handler) {
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      return () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      };
    },
  };
}

export function parseReproduceArgs(args: string[], env: NodeJS.ProcessEnv): ReproduceOptions | 'help' {
  const parsed = parseCommandArgs('reproduce', REPRODUCE_USAGE, args, {
    workspace: { type: 'string' },
    rubric: { type: 'string' },
    'no-rubric': { type: 'boolean' },
    blacklist: { type: 'string' },
    model: { type: 'string' },
    'base-url': { type: 'string' },
    budget: { type: 'string' },
    'spend-cap': { type: 'string' },
    price: { type: 'string' },
    'context-limit': { type: 'string' },
    'min-budget-use': { type: 'string' },
    'early-end-target': { type: 'string' },
    'early-end-checks': { type: 'string' },
    approval: { type: 'string' },
    'state-dir': { type: 'string' },
    resume: { type: 'string' },
    'session-id': { type: 'string' },
    network: { type: 'string' },
    image: { type: 'string' },
    gpus: { type: 'string' },
    'default-image': { type: 'string' },
    'wait-for-client': { type: 'boolean' },
    'max-steps': { type: 'string' },
    'request-timeout': { type: 'string' },
    'no-final-run': { type: 'boolean' },
    'keep-container': { type: 'boolean' },
    detach: { type: 'boolean' },
    json: { type: 'boolean' },
    label: { type: 'string', multiple: true },
    ...LIMIT_OPTIONS,
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
  const network = networkOption(v.network);
  const gpus = gpusOption(v.gpus);
  const budgetMs = durationOption('budget', v.budget);
  const labels = labelOptions(v.label);
  const maxSteps = numberOption('max-steps', v['max-steps'], { integer: true });
  const spendCapUsd = numberOption('spend-cap', v['spend-cap']);
  const requestTimeout = numberOption('request-timeout', v['request-timeout']);
  const earlyEnd = earlyEndOptions(v);
  return {
    ...(parsed.positionals[0] ? { paper: parsed.positionals[0] } : {}),
    ...(v.workspace ? { workspace: v.workspace } : {}),
    ...(v.rubric ? { rubric: v.rubric } : {}),
    generateRubric: !v.rubric && !v['no-rubric'],
    ...(v.blacklist ? { blacklist: v.blacklist } : {}),
    model: v.model ?? env.KLONG_MODEL ?? 'gpt-4.1',
    baseUrl: v['base-url'] ?? env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1',
    apiKey,
    ...(budgetMs !== undefined ? { budgetMs } : {}),
    stateDir: v['state-dir'] ?? defaultStateDir(),
    ...(v.resume ? { resume: v.resume } : {}),
    ...(v['session-id'] ? { sessionId: v['session-id'] } : {}),
    ...(approval ? { approval } : {}),
    ...(spendCapUsd !== undefined ? { spendCapUsd } : {}),
    contextLimit: numberOption('context-limit', v['context-limit'], { integer: true }) ?? 128_000,
    network,
    ...(v.image ? { image: v.image } : {}),
    ...(gpus ? { gpus } : {}),
    ...(v['default-image'] ? { defaultImage: v['default-image'] } : {}),
    ...(v['wait-for-client'] ? { waitForClient: true } : {}),
    ...(maxSteps !== undefined ? { maxSteps } : {}),
    ...(requestTimeout !== undefined ? { stallTimeoutMs: requestTimeout * 1000 } : {}),
    finalRun: !v['no-final-run'],
    finalTimeoutMs: 2 * 3600_000,
    keepContainer: !!v['keep-container'],
    detach: !!v.detach,
    ...(v.json ? { json: true } : {}),
    labels,
    limits: limitOptions(v),
    ...(v.price !== undefined ? { prices: priceOption(v.price) } : {}),
    ...(Object.keys(earlyEnd).length ? { earlyEnd } : {}),
  };
}

const PAPER_USAGE = `Usage: klong paper <paper.pdf|paper.md|paper.tex|source.tar.gz|source.zip|URL|arXiv id> [--out FILE] [--state-dir D]

Prints the paper as the agent gets it: the Markdown that is pinned in its context, with the
title, authors and sections read from the PDF's layout, or, for an arXiv paper or a .tex file,
from the LaTeX source (equations as written). Useful to check a paper before a long run.`;

async function paperCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('paper', PAPER_USAGE, args, {
    out: { type: 'string' },
    'state-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out.write(`${PAPER_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new CliError(`klong paper takes one paper.\n\n${PAPER_USAGE}`, 2);
  const { loadPaper } = await import('../paper');
  const stateDir = values['state-dir'] ?? defaultStateDir();
  const paper = await loadPaper(positionals[0]!, {
    cacheDir: join(stateDir, 'cache', 'papers'),
    onWarning: (m) => io.err.write(`warning: ${m}\n`),
  });
  const text = paper.markdown.endsWith('\n') ? paper.markdown : `${paper.markdown}\n`;
  if (values.out) {
    await writeFile(values.out, text);
    io.err.write(
      `"${paper.title}": ${paper.sections.length} sections, ${text.length} characters → ${values.out}\n`,
    );
  } else io.out.write(text);
  return 0;
}

const SESSIONS_USAGE = `Usage: klong sessions [--json] [--state-dir D] [--prune [--label K=V]...]

Lists the sessions in the state directory, newest first: id, status, steps, cost, paper, workspace.
A session whose engine is running shows "running"; one whose driver went away shows "interrupted".
--json prints one JSON array (the same fields, with "engine": "running" | "none").
--prune removes the containers of this state folder's sessions that are not running (a session's
files and step history stay in its folder; a resume creates a new container); --label limits it to
containers with that label.`;

async function listSessions(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs('sessions', SESSIONS_USAGE, args, {
    'state-dir': { type: 'string' },
    json: { type: 'boolean' },
    prune: { type: 'boolean' },
    label: { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out.write(`${SESSIONS_USAGE}\n`);
    return 0;
  }
  if (values.label && !values.prune) throw new CliError('klong sessions: --label goes with --prune.');
  if (values.prune) {
    const { pruneContainers } = await import('../engine/containers');
    const r = await pruneContainers({
      stateDir: values['state-dir'] ?? defaultStateDir(),
      labels: labelOptions(values.label),
    });
    for (const c of r.removed) io.out.write(`removed ${c.name} (session ${c.sessionId})\n`);
    for (const c of r.kept) io.out.write(`kept    ${c.name} (session ${c.sessionId}): ${c.why}\n`);
    io.out.write(`${r.removed.length} container(s) removed, ${r.kept.length} kept.\n`);
    return 0;
  }
  const { SessionStore } = await import('../session');
  const store = new SessionStore(values['state-dir'] ?? defaultStateDir());
  const list = store.list().map((s) => ({
    ...s,
    engine: s.lock === 'held' ? ('running' as const) : ('none' as const),
  }));
  if (values.json) {
    io.out.write(`${JSON.stringify(list, null, 2)}\n`);
    return 0;
  }
  if (!list.length) io.out.write('No sessions.\n');
  for (const s of list) {
    const status = s.interrupted ? 'interrupted' : s.status;
    io.out.write(
      `${s.id}  ${status.padEnd(11)} step ${s.steps}  $${s.costUsd.toFixed(2)}  ${s.paperTitle}  (${s.workspace})\n`,
    );
  }
  return 0;
}

const REWIND_USAGE = `Usage: klong rewind SESSION --to STEP [--code | --conversation] [--state-dir D]

Goes back to the state after step STEP (0 = before the first step). A running session is rewound
by its engine at the agent's next step, and the agent goes on from there.
  --code           Only the files in the session's container go back (the conversation goes on)
  --conversation   Only the agent's context goes back (the files stay as they are)
  (neither)        Both
The log keeps the later steps as an abandoned branch; "klong reproduce --resume SESSION" continues
from the new point.`;

const DIFF_USAGE = `Usage: klong diff SESSION [--from N] [--to M] [--state-dir D]

Unified diff of the session's files between the code after step N (default 0: the workspace as
copied in) and after step M (default: the latest).`;

function stepArg(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new CliError(`--${name} must be a step number (0 or more), got "${v}".`);
  return Number(v);
}

function stepArgs(
  command: string,
  usage: string,
  args: string[],
  extra: Record<string, { type: 'string' | 'boolean' }>,
) {
  const parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] } =
    parseCommandArgs(command, usage, args, {
      'state-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...extra,
    });
  const v = parsed.values;
  if (v.help) return 'help' as const;
  const [session, ...more] = parsed.positionals;
  if (!session || more.length) throw new CliError(`klong ${command}: name one session.\n\n${usage}`);
  const stateDir = typeof v['state-dir'] === 'string' ? v['state-dir'] : defaultStateDir();
  return { session, stateDir, values: v };
}

async function rewindCommand(args: string[], io: CliIO): Promise<number> {
  const a = stepArgs('rewind', REWIND_USAGE, args, {
    to: { type: 'string' },
    code: { type: 'boolean' },
    conversation: { type: 'boolean' },
  });
  if (a === 'help') {
    io.out.write(`${REWIND_USAGE}\n`);
    return 0;
  }
  const to = stepArg('to', a.values.to as string | undefined);
  if (to === undefined) throw new CliError(`klong rewind: --to STEP is required.\n\n${REWIND_USAGE}`);
  if (a.values.code && a.values.conversation)
    throw new CliError(
      'klong rewind: --code and --conversation together is the default (both); give one or neither.',
    );
  const mode = a.values.code ? 'code' : a.values.conversation ? 'conversation' : 'both';
  const { rewindSession } = await import('../engine/rewind');
  const { SessionLockedError } = await import('../session');
  const what = mode === 'both' ? 'Code and conversation' : mode === 'code' ? 'Code' : 'Conversation';
  // A running session: its engine rewinds it at its next step boundary and goes on from there.
  const running = await rewindRunning(a.stateDir, a.session, to, mode, what, io);
  if (running !== undefined) return running;
  let r: Awaited<ReturnType<typeof rewindSession>>;
  try {
    r = await rewindSession({ stateDir: a.stateDir, sessionId: a.session, toStep: to, mode });
  } catch (err) {
    if (err instanceof SessionLockedError)
      throw new CliError(`${err.message} Stop it there first, then rewind.`, 1);
    throw err;
  }
  io.out.write(
    `${what} of ${a.session} rewound to step ${r.toStep} (was at step ${r.fromStep}).${
      mode === 'conversation' ? '' : ` ${r.changedFiles} file(s) now differ from your workspace.`
    }\nResume with: klong reproduce --resume ${a.session}\n`,
  );
  return 0;
}

/** `klong rewind` of a session an engine drives, over its control channel; undefined: none does. */
async function rewindRunning(
  stateDir: string,
  id: string,
  to: number,
  mode: RewindMode,
  what: string,
  io: CliIO,
): Promise<number | undefined> {
  const { ControlClient } = await import('../engine/control');
  const { SessionStore } = await import('../session');
  const client = await ControlClient.connect(new SessionStore(stateDir).dirOf(id));
  if (!client) return undefined;
  try {
    io.err.write(`Session ${id} is running: its engine rewinds it at the agent's next step…\n`);
    const r = await client.rewind({ step: to, mode });
    io.out.write(
      `${what} of ${id} rewound to step ${r.toStep} (was at step ${r.fromStep}).${
        mode === 'conversation' ? '' : ` ${r.changedFiles} file(s) now differ from your workspace.`
      }\nThe agent goes on from there.\n`,
    );
    return 0;
  } catch (err) {
    const closed = /closed|disposed|ended/i.test(String((err as Error).message));
    throw new CliError(
      closed
        ? `The engine of ${id} went away before the rewind was done; it is done when the session resumes: klong reproduce --resume ${id}`
        : `klong rewind: ${(err as Error).message}`,
      1,
    );
  } finally {
    client.dispose();
  }
}

async function diffCommand(args: string[], io: CliIO): Promise<number> {
  const a = stepArgs('diff', DIFF_USAGE, args, { from: { type: 'string' }, to: { type: 'string' } });
  if (a === 'help') {
    io.out.write(`${DIFF_USAGE}\n`);
    return 0;
  }
  const from = stepArg('from', a.values.from as string | undefined);
  const to = stepArg('to', a.values.to as string | undefined);
  const { diffSession } = await import('../engine/rewind');
  io.out.write(
    await diffSession({
      stateDir: a.stateDir,
      sessionId: a.session,
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
    }),
  );
  return 0;
}

export async function main(args: string[], io: CliIO = defaultIO()): Promise<number> {
  // --no-color is global: taken out wherever it is, before the command parses its own options.
  const argv = args.filter((a) => a !== '--no-color' && a !== '--no-colour');
  configureColour({ noColor: argv.length !== args.length });
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out.write(`${USAGE}\n`);
        return 0;
      case '--version':
      case '-v':
      case 'version':
        io.out.write(`klong ${VERSION}\n`);
        return 0;
      case 'reproduce': {
        const o = parseReproduceArgs(rest, process.env);
        if (o === 'help') {
          io.out.write(`${REPRODUCE_USAGE}\n`);
          return 0;
        }
        if (o.detach) return await (await import('./session-commands')).reproduceDetached(rest, o, io);
        return await reproduce(o, io);
      }
      case 'attach':
        return await (await import('./session-commands')).attachCommand(rest, io);
      case 'say':
      case 'pause':
      case 'resume':
      case 'stop':
        return await (await import('./session-commands')).steerCommand(command, rest, io);
      case 'paper':
        return await paperCommand(rest, io);
      case 'sessions':
        return await listSessions(rest, io);
      case 'rubric':
        return await (await import('./rubric')).rubricCommand(rest, io, process.env);
      case 'batch':
        return await (await import('./batch')).batchCommand(rest, io, process.env);
      case 'export-sft':
        return await (await import('./export-sft')).exportSftCommand(rest, io);
      case 'rewind':
        return await rewindCommand(rest, io);
      case 'diff':
        return await diffCommand(rest, io);
      default:
        io.err.write(`klong: unknown command "${command}"\n\n${USAGE}\n`);
        return 2;
    }
  } catch (err) {
    if (err instanceof CliError) {
      io.err.write(`${paint(io.err, 'red', err.message)}\n`);
      return err.exitCode;
    }
    const e = err as Error & { hint?: string };
    io.err.write(
      `${paint(io.err, 'red', `klong: ${e.message ?? String(err)}`)}${e.hint ? `\n${e.hint}` : ''}\n`,
    );
    return 1;
  }
}
