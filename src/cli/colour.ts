/**
 * Colour in the CLI's output, only where it helps (errors, warnings, the grade) and only on a
 * terminal. Off with NO_COLOR (https://no-color.org: set and not empty), `--no-color` or
 * TERM=dumb; FORCE_COLOR=1 turns it on for a pipe (CI logs that render ANSI).
 */
export type Style = 'red' | 'yellow' | 'green' | 'bold' | 'dim';

const CODES: Record<Style, [number, number]> = {
  red: [31, 39],
  yellow: [33, 39],
  green: [32, 39],
  bold: [1, 22],
  dim: [2, 22],
};

interface Stream {
  isTTY?: boolean;
}

let noColorFlag = false;
let environment: NodeJS.ProcessEnv = process.env;

/** Set once per command line by `main`: `--no-color` given, and the environment to read. */
export function configureColour(o: { noColor: boolean; env?: NodeJS.ProcessEnv }): void {
  noColorFlag = o.noColor;
  environment = o.env ?? process.env;
}

/** Whether output to `stream` gets colour. */
export function colourWanted(
  stream: Stream,
  env: NodeJS.ProcessEnv = environment,
  noColor = noColorFlag,
): boolean {
  if (noColor) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '0' && force !== 'false') return true;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/** `text` in `style` when `stream` gets colour, else as it is. */
export function paint(stream: Stream, style: Style, text: string): string {
  if (!colourWanted(stream)) return text;
  const [on, off] = CODES[style];
  return `\x1b[${on}m${text}\x1b[${off}m`;
}

/** "error: …" in red, "warning: …" in yellow (the prefix only); other lines unchanged. */
export function paintMessage(stream: Stream, line: string): string {
  const m = /^(error|warning)(:)/.exec(line);
  if (!m) return line;
  return paint(stream, m[1] === 'error' ? 'red' : 'yellow', m[1]!) + line.slice(m[1]!.length);
}
