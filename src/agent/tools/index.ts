/**
 * The agent's tools. Each takes the parsed JSON arguments and a ToolContext and returns text for
 * the model; nothing here throws to the loop: bad arguments, blocked commands and tool failures
 * all come back as `ok: false` with a message the model can act on.
 */

import type { PlanItem } from '../../events/events';
import type { ToolCall, ToolSpec } from '../../llm/types';
import * as z from '../../paper/zod';
import { checkArgs, decoded, expectedShape, type JsonSchema, parseArgumentsText } from './args';
import { fileTools } from './files';
import { jobTools } from './jobs';
import { fail, type Tool, type ToolContext, type ToolOutcome } from './types';

export type { Args, PaperReader, Tool, ToolContext, ToolOutcome } from './types';
export { fail } from './types';

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const bash: Tool = {
  spec: {
    name: 'bash',
    description:
      'Run a bash command in the workspace container. Output (stdout+stderr) is returned with the exit code; long output is cut in the middle (redirect to a file and read it with read_file to see everything). Anything over a few minutes (training, large downloads): use job_start instead, and job_wait for it.',
    parameters: {
      type: 'object',
      properties: {
        command: { type: 'string', description: 'The command line.' },
        timeout_seconds: {
          type: 'integer',
          description: 'Kill the command after this many seconds (default 600).',
        },
      },
      required: ['command'],
    },
  },
  async run(args, ctx) {
    const command = args.command as string;
    const why = ctx.isBlocked?.(command);
    if (why) return fail(`Command refused: ${why}`);
    const max = ctx.maxBashTimeoutMs ?? 4 * 3600_000;
    const asked =
      typeof args.timeout_seconds === 'number' && args.timeout_seconds > 0
        ? args.timeout_seconds * 1000
        : undefined;
    const timeoutMs = Math.min(asked ?? ctx.bashTimeoutMs ?? 600_000, max);
    const r = await ctx.sandbox.exec(command, {
      timeoutMs,
      outputCap: ctx.outputCap ?? 256 * 1024,
      signal: ctx.signal,
      ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}),
    });
    const status = r.timedOut
      ? `[timed out after ${Math.round(timeoutMs / 1000)} s; the command and its child processes were killed]`
      : `[exit code: ${r.exitCode}]`;
    const cut = r.truncated ? `\n[output was ${r.totalBytes} bytes; the middle was dropped]` : '';
    return {
      ok: r.exitCode === 0 && !r.timedOut,
      output: `${r.output}${r.output.endsWith('\n') || !r.output ? '' : '\n'}${status}${cut}`,
    };
  },
};

const search: Tool = {
  spec: {
    name: 'search',
    description:
      'Search file contents in the workspace with a regular expression (ripgrep if installed, else grep -E). Returns path:line:text, at most 200 lines.',
    parameters: {
      type: 'object',
      properties: {
        pattern: { type: 'string', description: 'Regular expression.' },
        path: { type: 'string', description: 'Folder or file to search (default: the whole workspace).' },
      },
      required: ['pattern'],
    },
  },
  async run(args, ctx) {
    const pattern = args.pattern as string;
    const path = typeof args.path === 'string' && args.path ? args.path : '.';
    const p = shellQuote(pattern);
    const where = shellQuote(path);
    const cmd = `cd ${shellQuote(ctx.sandbox.workdir)} && if command -v rg >/dev/null 2>&1; then rg -n --no-heading --color never -e ${p} -- ${where}; else grep -rnIE --exclude-dir=.git --exclude-dir=node_modules -e ${p} -- ${where}; fi 2>&1 | head -n 200`;
    const r = await ctx.sandbox.exec(cmd, { timeoutMs: 60_000, outputCap: 64 * 1024, signal: ctx.signal });
    if (r.timedOut) return fail('Search timed out after 60 s; narrow it with path.');
    const out = r.output.trim();
    if (!out) return { ok: true, output: `No matches for /${pattern}/ in ${path}.` };
    return { ok: true, output: out };
  },
};

const readPaper: Tool = {
  spec: {
    name: 'read_paper',
    description:
      'Read the paper: a section by id or title ({"section": "3.1"}), a search ({"query": "learning rate"}), or, with no arguments, the section index.',
    parameters: {
      type: 'object',
      properties: { section: { type: 'string' }, query: { type: 'string' } },
    },
  },
  async run(args, ctx) {
    if (!ctx.paper) return fail('No paper is attached to this session.');
    if (typeof args.section === 'string' && args.section) {
      const text = ctx.paper.section(args.section);
      if (text === undefined) return fail(`No section "${args.section}". Sections:\n${ctx.paper.index()}`);
      return { ok: true, output: text };
    }
    if (typeof args.query === 'string' && args.query)
      return { ok: true, output: ctx.paper.search(args.query) };
    return { ok: true, output: ctx.paper.index() };
  },
};

const STATUSES = ['todo', 'doing', 'done'] as const;

/** Status words other agents' plan tools use (Codex: pending / in_progress / completed). */
const STATUS_WORDS: Record<string, PlanItem['status']> = {
  todo: 'todo',
  'to do': 'todo',
  pending: 'todo',
  'not started': 'todo',
  doing: 'doing',
  in_progress: 'doing',
  'in-progress': 'doing',
  'in progress': 'doing',
  active: 'doing',
  done: 'done',
  completed: 'done',
  complete: 'done',
  finished: 'done',
};

/** A plan item; a plain string is a to-do item, and step/content/title name the text like text does. */
const planItem = z.pipe(
  z.transform((v: unknown) => {
    if (typeof v === 'string') return { text: v, status: 'todo' };
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    const text = o.text ?? o.step ?? o.content ?? o.title ?? o.task;
    const status =
      o.status === undefined || o.status === null
        ? 'todo'
        : typeof o.status === 'string'
          ? (STATUS_WORDS[o.status.trim().toLowerCase()] ?? o.status)
          : o.status;
    return { text, status };
  }),
  z.object({ text: z.string(), status: z.enum(STATUSES) }),
);

const planArgs = z.pipe(
  z.transform((v: unknown) => {
    if (Array.isArray(v)) return { items: v };
    const o = decoded('object')(v);
    if (typeof o !== 'object' || o === null) return o;
    const r = o as Record<string, unknown>;
    return r.items === undefined && r.plan !== undefined ? { ...r, items: r.plan } : r;
  }),
  z.looseObject({ items: z.pipe(z.transform(decoded('array')), z.array(planItem)) }),
);

const updatePlan: Tool = {
  spec: {
    name: 'update_plan',
    description:
      'Replace the plan (a checklist shown to the user). Keep it current: mark items doing/done as you go.',
    parameters: {
      type: 'object',
      properties: {
        items: {
          type: 'array',
          items: {
            type: 'object',
            properties: { text: { type: 'string' }, status: { type: 'string', enum: [...STATUSES] } },
            required: ['text', 'status'],
          },
        },
      },
      required: ['items'],
    },
  },
  args: planArgs,
  example: {
    items: [
      { text: 'Read the method section', status: 'done' },
      { text: 'Implement the model', status: 'doing' },
    ],
  },
  async run(args) {
    const items = (args.items as PlanItem[]).map((i) => ({ text: i.text, status: i.status }));
    const n = (s: string) => items.filter((x) => x.status === s).length;
    return {
      ok: true,
      output: `Plan updated: ${items.length} items (${n('done')} done, ${n('doing')} doing, ${n('todo')} to do).`,
      plan: items,
    };
  },
};

const endTask: Tool = {
  spec: {
    name: 'end_task',
    description:
      'Finish the session. Call it only when the reproduction is complete (reproduce.sh runs end to end) or the time is up. Summarise what was reproduced and what was not.',
    parameters: {
      type: 'object',
      properties: { summary: { type: 'string' } },
      required: ['summary'],
    },
  },
  async run(args) {
    return { ok: true, output: 'Session ended.', end: { summary: args.summary as string } };
  },
};

export function defaultTools(): Tool[] {
  return [bash, ...fileTools, ...jobTools, search, readPaper, updatePlan, endTask];
}

export function toolSpecs(tools: Tool[]): ToolSpec[] {
  return tools.map((t) => t.spec);
}

/**
 * The tool a call names, allowing for the dressing some chat templates leave on the name
 * ("functions.bash", "bash<|channel|>commentary", " bash "); an unknown name is returned as is.
 */
export function toolNameOf(name: string, tools: Tool[]): string {
  if (tools.some((t) => t.spec.name === name)) return name;
  const bare = name
    .replace(/<\|.*$/s, '')
    .trim()
    .replace(/^functions\./, '');
  return tools.some((t) => t.spec.name === bare) ? bare : name;
}

const WRAPPER_KEYS = ['name', 'arguments', 'parameters', 'input'];

/** {"name": "bash", "arguments": {...}}: the whole call where only its arguments belong. */
function unwrapCall(v: unknown, toolName: string, params: JsonSchema): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  const inner = o.arguments ?? o.parameters ?? o.input;
  const wrapped =
    inner !== undefined &&
    keys.every((k) => WRAPPER_KEYS.includes(k) && !(k in (params.properties ?? {}))) &&
    (o.name === undefined || o.name === toolName);
  if (!wrapped) return v;
  if (typeof inner !== 'string') return inner;
  const r = parseArgumentsText(inner);
  return r.ok ? r.value : v;
}

/** Parse, validate and run one tool call. Never throws (except when aborted). */
export async function runToolCall(call: ToolCall, tools: Tool[], ctx: ToolContext): Promise<ToolOutcome> {
  const tool = tools.find((t) => t.spec.name === toolNameOf(call.name, tools));
  if (!tool)
    return fail(`Unknown tool "${call.name}". Available tools: ${tools.map((t) => t.spec.name).join(', ')}.`);
  const shape = () => expectedShape(tool.spec.parameters as JsonSchema, tool.example);
  const parsed = parseArgumentsText(call.arguments);
  if (!parsed.ok) {
    const preview = call.arguments.length > 200 ? `${call.arguments.slice(0, 200)}…` : call.arguments;
    return fail(
      `The arguments of ${call.name} are not valid JSON (${parsed.error}): ${preview}\nCall ${call.name} again with one valid JSON object; escape newlines and quotes inside strings. ${shape()}`,
    );
  }
  const params = tool.spec.parameters as JsonSchema;
  const checked = checkArgs(params, unwrapCall(parsed.value, tool.spec.name, params), tool.args);
  if (!checked.ok) return fail(`${call.name}: ${checked.problem}. ${shape()}`);
  const args = checked.args;
  try {
    return await tool.run(args, ctx);
  } catch (err) {
    if (ctx.signal?.aborted) throw err;
    return fail(`${call.name} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
