/** `klong rewind` and `klong diff`: a stopped session's step history (history.git in its folder). */
import { defaultStateDir, parseCommandArgs } from './args';
import { CliError, type CliIO } from './reproduce';

const REWIND_USAGE = `Usage: klong rewind SESSION --to STEP [--code | --conversation] [--state-dir D]

Goes back to the state after step STEP (0 = before the first step). The session must not be running.
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

export async function rewindCommand(args: string[], io: CliIO): Promise<number> {
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
  let r: Awaited<ReturnType<typeof rewindSession>>;
  try {
    r = await rewindSession({ stateDir: a.stateDir, sessionId: a.session, toStep: to, mode });
  } catch (err) {
    if (err instanceof SessionLockedError)
      throw new CliError(`${err.message} Stop it there first, then rewind.`, 1);
    throw err;
  }
  const what = mode === 'both' ? 'Code and conversation' : mode === 'code' ? 'Code' : 'Conversation';
  io.out.write(
    `${what} of ${a.session} rewound to step ${r.toStep} (was at step ${r.fromStep}).${
      mode === 'conversation' ? '' : ` ${r.changedFiles} file(s) now differ from your workspace.`
    }\nResume with: klong reproduce --resume ${a.session}\n`,
  );
  return 0;
}

export async function diffCommand(args: string[], io: CliIO): Promise<number> {
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
