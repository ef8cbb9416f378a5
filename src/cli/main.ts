/** `klong`: the headless command on the same engine as the extension; picks the command and reports its errors. */
import { version as VERSION } from '../../package.json';
import { configureColour, paint } from './colour';
import { COMMANDS, USAGE } from './commands';
import { CliError, type CliIO } from './reproduce';

// Tests and callers that parse `klong reproduce`'s options through main.
export { parseReproduceArgs } from './reproduce-args';

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

const HELP = new Set(['help', '--help', '-h']);
const VERSION_FLAGS = new Set(['version', '--version', '-v']);

export async function main(args: string[], io: CliIO = defaultIO()): Promise<number> {
  // --no-color is global: taken out wherever it is, before the command parses its own options.
  const argv = args.filter((a) => a !== '--no-color' && a !== '--no-colour');
  configureColour({ noColor: argv.length !== args.length });
  const [command, ...rest] = argv;
  if (command === undefined || HELP.has(command)) {
    io.out.write(`${USAGE}\n`);
    return 0;
  }
  if (VERSION_FLAGS.has(command)) {
    io.out.write(`klong ${VERSION}\n`);
    return 0;
  }
  const run = COMMANDS.get(command);
  if (!run) {
    io.err.write(`klong: unknown command "${command}"\n\n${USAGE}\n`);
    return 2;
  }
  try {
    return await run(rest, io);
  } catch (err) {
    return reportError(err, io);
  }
}

/** A CliError is the user's to fix (its own exit code); anything else is KLong's message and hint. */
function reportError(err: unknown, io: CliIO): number {
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
