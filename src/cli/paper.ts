/** `klong paper`: the paper as the agent reads it (Markdown), to check it before a long run. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultStateDir, parseCommandArgs } from './args';
import { CliError, type CliIO } from './reproduce';

const PAPER_USAGE = `Usage: klong paper <paper.pdf|paper.md|paper.tex|source.tar.gz|source.zip|URL|arXiv id> [--out FILE] [--state-dir D]

Prints the paper as the agent gets it: the Markdown that is pinned in its context, with the
title, authors and sections read from the PDF's layout, or, for an arXiv paper or a .tex file,
from the LaTeX source (equations as written). Useful to check a paper before a long run.`;

export async function paperCommand(args: string[], io: CliIO): Promise<number> {
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
