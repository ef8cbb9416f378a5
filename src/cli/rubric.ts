/**
 * `klong rubric check|show|generate`: a PaperBench rubric.json checked (errors with JSON path and
 * line/column, statistics, warnings), shown as a tree, or written from a paper by the model, so that
 * it can be reviewed before a 12 h run.
 */

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { retryText } from '../agent/live';
import type { RubricCheck } from '../paper/rubric/check';
import type { RubricNode, TaskCategory } from '../paper/types';
import { apiKeyFrom, type CommandOptions, defaultStateDir, numberOption, parseCommandArgs } from './args';
import { paint } from './colour';
import { CliError, type CliIO } from './reproduce';

export const RUBRIC_USAGE = `Usage: klong rubric <check|show|generate> ...

  check FILE [--json]                 Validate a PaperBench rubric.json: errors (exit 1) and warnings
                                      with their place in the file, and statistics
  show FILE [--depth N]               The rubric as an indented tree (weights, categories)
  generate PAPER [--out rubric.json]  Write a rubric from the paper with the model (as the extension does)

Run "klong rubric check --help" for the options of a subcommand.`;

const CHECK_USAGE = `Usage: klong rubric check FILE [--json]

Checks a rubric.json in PaperBench's format. Errors (the rubric cannot be used) and warnings (what
PaperBench accepts but is probably a slip: repeated ids, weights of 0) are listed as
FILE:LINE:COLUMN: JSON path: message, followed by statistics: leaves, depth, weights, and leaves
per category (Code Development, Code Execution, Result Analysis) with their share of the score.
  --json     The same as one JSON object on stdout
Exit status: 0 when the rubric can be used (warnings or not), 1 when it has errors.`;

const SHOW_USAGE = `Usage: klong rubric show FILE [--depth N]

Prints the number of leaves, then the rubric as an indented tree: each node's weight, its share of
its parent, its category (leaves) and its requirement.
  --depth N  Show N levels (deeper nodes are counted, not listed)`;

const GENERATE_USAGE = `Usage: klong rubric generate <paper.pdf|paper.md|URL|arXiv id> [--out rubric.json] [options]

Asks the model for a grading rubric of the paper, in PaperBench's format: the same generator the
extension and "klong reproduce" use when no rubric is given. Review it, then pass it to
"klong reproduce --rubric".
  --out FILE             Where to write it (default: stdout)
  --leaves N             Rough number of leaves to aim for (default 40)
  --model M              Model name (default $KLONG_MODEL or gpt-4.1)
  --base-url U           OpenAI-compatible endpoint (default $OPENAI_BASE_URL or https://api.openai.com/v1)
  --state-dir D          Where downloaded papers are cached (default ~/.klong/sessions)
The API key is read from KLONG_API_KEY or OPENAI_API_KEY.`;

const CATEGORIES = ['Code Development', 'Code Execution', 'Result Analysis'] as const;
const SHORT: Record<TaskCategory, string> = {
  'Code Development': 'dev',
  'Code Execution': 'exec',
  'Result Analysis': 'result',
  Subtree: 'subtree',
};

export interface RubricFigures {
  nodes: number;
  leaves: number;
  depth: number;
  topLevel: number;
  /** Sum of every node's weight (weights are relative among siblings: this is for comparison only). */
  totalWeight: number;
  /** Leaves per category and the share of the root score they carry (weights multiplied down the tree). */
  categories: Record<(typeof CATEGORIES)[number], { leaves: number; share: number }>;
}

export function rubricFigures(root: RubricNode): RubricFigures {
  const categories = Object.fromEntries(CATEGORIES.map((c) => [c, { leaves: 0, share: 0 }])) as Record<
    (typeof CATEGORIES)[number],
    { leaves: number; share: number }
  >;
  let nodes = 0;
  let leaves = 0;
  let totalWeight = 0;
  let depth = 0;
  const walk = (n: RubricNode, level: number, share: number) => {
    nodes++;
    totalWeight += n.weight;
    depth = Math.max(depth, level);
    if (!n.sub_tasks.length) {
      leaves++;
      // A leaf without a category is graded as Code Development (see judge.ts).
      const cat = n.task_category ?? 'Code Development';
      const c = cat !== 'Subtree' ? categories[cat] : undefined;
      if (c) {
        c.leaves++;
        c.share += share;
      }
      return;
    }
    const sum = n.sub_tasks.reduce((a, c) => a + c.weight, 0);
    for (const c of n.sub_tasks) walk(c, level + 1, sum ? (share * c.weight) / sum : 0);
  };
  walk(root, 1, 1);
  return { nodes, leaves, depth, topLevel: root.sub_tasks.length, totalWeight, categories };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

async function readRubricFile(command: string, file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      `klong rubric ${command}: ${file}: ${code === 'ENOENT' ? 'file not found' : (err as Error).message}`,
      1,
    );
  }
}

async function check(file: string): Promise<RubricCheck> {
  const { checkRubricText } = await import('../paper/rubric/check');
  return checkRubricText(await readRubricFile('check', file));
}

/** `klong rubric check|show FILE`'s options and its one file; undefined once --help printed the usage. */
function fileArgs<O extends CommandOptions>(
  command: 'check' | 'show',
  usage: string,
  args: string[],
  options: O,
  io: CliIO,
) {
  const { values, positionals } = parseCommandArgs(`rubric ${command}`, usage, args, {
    ...options,
    help: { type: 'boolean', short: 'h' } as const,
  });
  if ((values as { help?: boolean }).help) {
    io.out.write(`${usage}\n`);
    return undefined;
  }
  if (positionals.length !== 1) throw new CliError(`klong rubric ${command} takes one file.\n\n${usage}`);
  return { values, file: positionals[0]! };
}

async function checkCommand(args: string[], io: CliIO): Promise<number> {
  const a = fileArgs('check', CHECK_USAGE, args, { json: { type: 'boolean' } }, io);
  if (!a) return 0;
  const { values, file } = a;
  const r = await check(file);
  const figures = r.rubric ? rubricFigures(r.rubric) : undefined;
  if (values.json) {
    const { formatPath } = await import('../paper/rubric/rubric');
    const issue = (i: RubricCheck['errors'][number]) => ({ ...i, where: formatPath(i.path) });
    io.out.write(
      `${JSON.stringify(
        {
          file,
          valid: !r.errors.length,
          errors: r.errors.map(issue),
          warnings: r.warnings.map(issue),
          ...(figures ? { stats: figures } : {}),
        },
        null,
        2,
      )}\n`,
    );
    return r.errors.length ? 1 : 0;
  }
  const { issueLine } = await import('../paper/rubric/check');
  for (const e of r.errors) io.out.write(`${issueLine(file, e)} ${paint(io.out, 'red', '(error)')}\n`);
  for (const w of r.warnings) io.out.write(`${issueLine(file, w)} ${paint(io.out, 'yellow', '(warning)')}\n`);
  if (!figures) {
    io.out.write(`${file}: ${r.errors.length} error(s): not a usable rubric.\n`);
    return 1;
  }
  const f = figures;
  const lines = [
    `${file}: valid PaperBench rubric${r.warnings.length ? ` with ${r.warnings.length} warning(s)` : ''}.`,
    `  leaves:        ${f.leaves} (of ${f.nodes} nodes)`,
    `  depth:         ${f.depth} levels`,
    `  top level:     ${f.topLevel} requirement(s)`,
    `  total weight:  ${f.totalWeight} (sum of all node weights; weights count among siblings)`,
    ...CATEGORIES.map(
      (c) =>
        `  ${`${c}:`.padEnd(18)} ${String(f.categories[c].leaves).padStart(5)} leaves, ${pct(f.categories[c].share)} of the score`,
    ),
  ];
  io.out.write(`${lines.join('\n')}\n`);
  return 0;
}

async function showCommand(args: string[], io: CliIO): Promise<number> {
  const a = fileArgs('show', SHOW_USAGE, args, { depth: { type: 'string' } }, io);
  if (!a) return 0;
  const { values, file } = a;
  const maxDepth = numberOption('depth', values.depth, { integer: true }) ?? Number.POSITIVE_INFINITY;
  const r = await check(file);
  if (!r.rubric) {
    const { issueLine } = await import('../paper/rubric/check');
    for (const e of r.errors) io.err.write(`${issueLine(file, e)}\n`);
    throw new CliError(
      `${file}: not a usable rubric (${r.errors.length} error(s)); see "klong rubric check".`,
      1,
    );
  }
  const f = rubricFigures(r.rubric);
  const out = [
    `${f.leaves} leaves (${CATEGORIES.map((c) => `${f.categories[c].leaves} ${c.toLowerCase()}`).join(', ')}), depth ${f.depth}`,
  ];
  const countLeaves = (n: RubricNode): number =>
    n.sub_tasks.length ? n.sub_tasks.reduce((a, c) => a + countLeaves(c), 0) : 1;
  const walk = (n: RubricNode, level: number, siblings: number) => {
    const share = siblings ? ` ${Math.round((100 * n.weight) / siblings)}%` : '';
    const cat = n.task_category ? ` (${SHORT[n.task_category]})` : '';
    const text = n.requirements.replace(/\s+/g, ' ').trim();
    const hidden = n.sub_tasks.length && level + 1 >= maxDepth ? ` [+${countLeaves(n)} leaves]` : '';
    out.push(`${'  '.repeat(level)}- [w${n.weight}${share}]${cat} ${text}${hidden}`);
    if (hidden) return;
    const sum = n.sub_tasks.reduce((a, c) => a + c.weight, 0);
    for (const c of n.sub_tasks) walk(c, level + 1, sum);
  };
  walk(r.rubric, 0, 0);
  io.out.write(`${out.join('\n')}\n`);
  if (r.warnings.length)
    io.err.write(`${file}: ${r.warnings.length} warning(s); see "klong rubric check ${file}".\n`);
  return 0;
}

async function generateCommand(args: string[], io: CliIO, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseCommandArgs('rubric generate', GENERATE_USAGE, args, {
    out: { type: 'string', short: 'o' },
    leaves: { type: 'string' },
    model: { type: 'string' },
    'base-url': { type: 'string' },
    'state-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out.write(`${GENERATE_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1)
    throw new CliError(`klong rubric generate takes one paper.\n\n${GENERATE_USAGE}`);
  const apiKey = apiKeyFrom('rubric generate', env);
  const targetLeaves = numberOption('leaves', values.leaves, { integer: true });
  const { OpenAIModelClient } = await import('../llm/openai-client');
  const { generateRubric, loadPaper, serializeRubric } = await import('../paper');
  const say = (s: string) => io.err.write(`${s}\n`);
  const stateDir = values['state-dir'] ?? defaultStateDir();
  const paper = await loadPaper(positionals[0]!, {
    cacheDir: join(stateDir, 'cache', 'papers'),
    onWarning: (m) => say(`warning: ${m}`),
  });
  const model = values.model ?? env.KLONG_MODEL ?? 'gpt-4.1';
  const client = new OpenAIModelClient({
    baseURL: values['base-url'] ?? env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1',
    apiKey,
    model,
    onRetry: (r) =>
      say(
        `Model request failed: ${retryText({ attempt: r.attempt + 1, of: r.maxRetries + 1, reason: r.reason, until: Date.now() + r.delayMs }, Date.now())}.`,
      ),
  });
  say(`Writing a grading rubric for "${paper.title}" with ${model}…`);
  const g = await generateRubric(client, paper, targetLeaves ? { targetLeaves } : {});
  const text = `${serializeRubric(g.rubric)}\n`;
  const f = rubricFigures(g.rubric);
  if (values.out) await writeFile(values.out, text);
  else io.out.write(text);
  say(
    `${f.leaves} leaves, depth ${f.depth} (${CATEGORIES.map((c) => `${f.categories[c].leaves} ${SHORT[c]}`).join(', ')})${
      g.repairs.length ? `; ${g.repairs.length} repair(s) made` : ''
    }${values.out ? ` → ${values.out}` : ''}`,
  );
  if (values.out)
    say(`Review it with "klong rubric show ${values.out}", then: klong reproduce --rubric ${values.out}`);
  return 0;
}

export async function rubricCommand(args: string[], io: CliIO, env: NodeJS.ProcessEnv): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'check':
      return checkCommand(rest, io);
    case 'show':
      return showCommand(rest, io);
    case 'generate':
      return generateCommand(rest, io, env);
    case undefined:
      io.err.write(`${RUBRIC_USAGE}\n`);
      return 2;
    case 'help':
    case '--help':
    case '-h':
      io.out.write(`${RUBRIC_USAGE}\n`);
      return 0;
    default:
      throw new CliError(`klong rubric: unknown subcommand "${sub}".\n\n${RUBRIC_USAGE}`);
  }
}
