/**
 * The agent's tools. Each takes the parsed JSON arguments and a ToolContext and returns text for
 * the model; nothing here throws to the loop: bad arguments, blocked commands and tool failures
 * all come back as `ok: false` with a message the model can act on.
 */
import type { ToolCall, ToolSpec } from '../llm/types';
import type { PlanItem } from './events';
import { type Args, fail, type Tool, type ToolContext, type ToolOutcome } from './tool-types';
import { fileTools } from './tools-files';

export type { Args, PaperReader, Tool, ToolContext, ToolOutcome } from './tool-types';
export { fail } from './tool-types';

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const bash: Tool = {
  spec: {
    name: 'bash',
    description:
      'Run a bash command in the workspace container. Output (stdout+stderr) is returned with the exit code; long output is cut in the middle (redirect to a file and read it with read_file to see everything). Long jobs: raise timeout_seconds or run them in the background with nohup and poll.',
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

const STATUSES = ['todo', 'doing', 'done'];

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
            properties: { text: { type: 'string' }, status: { type: 'string', enum: STATUSES } },
            required: ['text', 'status'],
          },
        },
      },
      required: ['items'],
    },
  },
  async run(args) {
    const items: PlanItem[] = [];
    for (const [i, it] of (args.items as unknown[]).entries()) {
      const o = it as { text?: unknown; status?: unknown };
      if (typeof o?.text !== 'string' || !STATUSES.includes(o.status as string)) {
        return fail(`items[${i}] must be {"text": string, "status": "todo" | "doing" | "done"}.`);
      }
      items.push({ text: o.text, status: o.status as PlanItem['status'] });
    }
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
  return [bash, ...fileTools, search, readPaper, updatePlan, endTask];
}

export function toolSpecs(tools: Tool[]): ToolSpec[] {
  return tools.map((t) => t.spec);
}

/** Checks required fields and primitive types against the tool's JSON schema; returns a problem or undefined. */
function checkArgs(spec: ToolSpec, args: Args): string | undefined {
  const props = (spec.parameters.properties ?? {}) as Record<string, { type?: string }>;
  for (const r of (spec.parameters.required ?? []) as string[]) {
    if (args[r] === undefined || args[r] === null) return `missing required argument "${r}"`;
  }
  for (const [k, v] of Object.entries(args)) {
    const t = props[k]?.type;
    if (!t || v === undefined || v === null) continue;
    const ok =
      t === 'string'
        ? typeof v === 'string'
        : t === 'integer' || t === 'number'
          ? typeof v === 'number' && Number.isFinite(v)
          : t === 'boolean'
            ? typeof v === 'boolean'
            : t === 'array'
              ? Array.isArray(v)
              : t === 'object'
                ? typeof v === 'object' && !Array.isArray(v)
                : true;
    if (!ok) return `argument "${k}" must be ${t === 'integer' ? 'an integer' : `a ${t}`}`;
  }
  return undefined;
}

/** Parse, validate and run one tool call. Never throws (except when aborted). */
export async function runToolCall(call: ToolCall, tools: Tool[], ctx: ToolContext): Promise<ToolOutcome> {
  const tool = tools.find((t) => t.spec.name === call.name);
  if (!tool)
    return fail(`Unknown tool "${call.name}". Available tools: ${tools.map((t) => t.spec.name).join(', ')}.`);
  let args: unknown;
  try {
    args = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
  } catch (err) {
    const preview = call.arguments.length > 200 ? `${call.arguments.slice(0, 200)}…` : call.arguments;
    return fail(
      `The arguments of ${call.name} are not valid JSON (${err instanceof Error ? err.message : String(err)}): ${preview}\nCall ${call.name} again with one valid JSON object; escape newlines and quotes inside strings.`,
    );
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    return fail(`The arguments of ${call.name} must be a JSON object.`);
  }
  const problem = checkArgs(tool.spec, args as Args);
  if (problem) return fail(`${call.name}: ${problem}. Expected: ${JSON.stringify(tool.spec.parameters)}`);
  try {
    return await tool.run(args as Args, ctx);
  } catch (err) {
    if (ctx.signal?.aborted) throw err;
    return fail(`${call.name} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
