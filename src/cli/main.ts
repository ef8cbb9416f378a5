/** `klong`: the headless command on the same engine as the extension. */
import { parseArgs } from 'node:util';

const USAGE = `Usage: klong <command> [options]

Commands:
  reproduce <paper.pdf|paper.md>   Reproduce a paper in a workspace
  help                             Show this help

Run "klong reproduce --help" for the options of a command.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    case 'reproduce': {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true, strict: false });
      console.error(`klong reproduce: not available yet (${positionals.join(' ')})`);
      return 2;
    }
    default:
      console.error(`klong: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`klong: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
