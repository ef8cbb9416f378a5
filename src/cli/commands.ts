/** The commands of `klong`: the general usage and the table that names each command's handler. */

import { paperCommand } from './paper';
import { type CliIO, reproduce } from './reproduce';
import { parseReproduceArgs, REPRODUCE_USAGE } from './reproduce-args';
import { sessionsCommand } from './sessions';
import { diffCommand, rewindCommand } from './step-history';

export const USAGE = `Usage: klong <command> [options]

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

/** A command's handler: its arguments (after the command's name) → the exit code. */
export type Command = (args: string[], io: CliIO) => Promise<number>;

async function reproduceCommand(args: string[], io: CliIO): Promise<number> {
  const o = parseReproduceArgs(args, process.env);
  if (o === 'help') {
    io.out.write(`${REPRODUCE_USAGE}\n`);
    return 0;
  }
  if (o.detach) return (await import('./session-commands')).reproduceDetached(args, o, io);
  return reproduce(o, io);
}

const steer =
  (command: 'say' | 'pause' | 'resume' | 'stop'): Command =>
  async (args, io) =>
    (await import('./session-commands')).steerCommand(command, args, io);

/** The commands by name; the ones that need more of the engine load it when they run. */
export const COMMANDS: ReadonlyMap<string, Command> = new Map<string, Command>([
  ['reproduce', reproduceCommand],
  ['attach', async (args, io) => (await import('./session-commands')).attachCommand(args, io)],
  ['say', steer('say')],
  ['pause', steer('pause')],
  ['resume', steer('resume')],
  ['stop', steer('stop')],
  ['paper', paperCommand],
  ['sessions', sessionsCommand],
  ['rubric', async (args, io) => (await import('./rubric')).rubricCommand(args, io, process.env)],
  ['batch', async (args, io) => (await import('./batch')).batchCommand(args, io, process.env)],
  ['export-sft', async (args, io) => (await import('./export-sft')).exportSftCommand(args, io)],
  ['rewind', rewindCommand],
  ['diff', diffCommand],
]);
