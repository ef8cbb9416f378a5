/** read_file, write_file, edit_file: workspace files through the Sandbox. */
import { resolveWorkspacePath, type Sandbox } from '../../sandbox/sandbox';
import { type Args, fail, type Tool, type ToolContext, type ToolOutcome } from './types';

const MAX_LINES = 400;
const MAX_CHARS = 40_000;
/** Bytes of a file one read_file brings out of the sandbox (the shown text is cut to MAX_CHARS). */
const MAX_BYTES = 4 * MAX_CHARS;
/** Files above this are not edited in memory by edit_file. */
const EDIT_MAX_BYTES = 16 * 1024 * 1024;

/** Workspace-relative path from what the model wrote: relative, or absolute under the workdir. */
export function workspacePath(path: string, sandbox: Sandbox): string {
  const wd = sandbox.workdir.replace(/\/+$/, '');
  // What the model wrote: a Windows-style separator is taken as one (file names from git are not).
  let p = path.trim().replace(/\\/g, '/');
  if (p.startsWith('/')) {
    if (p === wd || !p.startsWith(`${wd}/`)) {
      throw new Error(`${path} is outside the workspace; use a path under ${wd} or relative to it.`);
    }
    p = p.slice(wd.length + 1);
  }
  return resolveWorkspacePath(p);
}

async function readText(sandbox: Sandbox, p: string): Promise<string | undefined> {
  try {
    return Buffer.from(await sandbox.readFile(p)).toString('utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT' || /no such file|not found|does not exist/i.test(String(err))) return undefined;
    throw err;
  }
}

function withPath(fn: (p: string, args: Args, ctx: ToolContext) => Promise<ToolOutcome>) {
  return async (args: Args, ctx: ToolContext): Promise<ToolOutcome> => {
    let p: string;
    try {
      p = workspacePath(args.path as string, ctx.sandbox);
    } catch (err) {
      return fail(err instanceof Error ? err.message : String(err));
    }
    return fn(p, args, ctx);
  };
}

/**
 * read_file through the sandbox's range reads: only the requested lines leave the container, so a
 * file of any size is read in bounded memory; what does not fit says how to page on.
 */
async function readRange(
  sandbox: Sandbox & Required<Pick<Sandbox, 'readLines'>>,
  p: string,
  args: Args,
): Promise<ToolOutcome> {
  const start = Math.max(1, Math.floor((args.start_line as number | undefined) ?? 1));
  const asked = typeof args.end_line === 'number' ? Math.floor(args.end_line) : undefined;
  const last = start + MAX_LINES - 1;
  const r = await sandbox.readLines(p, start, asked !== undefined ? Math.min(asked, last) : last, MAX_BYTES);
  if (r === null) return fail(`${p} does not exist. Use search or bash (ls) to find the right path.`);
  if (r.binary) return fail(`${p} is a binary file (${r.size} bytes); inspect it with bash.`);
  const total = r.lines;
  if (total === 0) return { ok: true, output: `${p} is empty.` };
  if (start > total) return fail(`${p} has ${total} lines; start_line ${start} is past the end.`);
  const wanted = Math.min(total, asked ?? total);
  const text = Buffer.from(r.bytes).toString('utf8');
  const lines = text.split('\n');
  // The last piece is a whole line only when the range ended there (not when the byte cap cut it).
  if (lines.length > 1 && (lines[lines.length - 1] === '' || r.cut)) lines.pop();
  const end = Math.min(wanted, start + lines.length - 1);
  const width = String(end).length;
  let body = '';
  let shownEnd = start - 1;
  let longLine = '';
  for (let i = start; i <= end; i++) {
    let content = lines[i - start]!;
    if (content.length > MAX_CHARS) {
      longLine = ` Line ${i} is longer than ${MAX_CHARS} characters and was cut; see it in pieces with bash (e.g. sed -n '${i}p' ${shellQuote(p)} | cut -c 1-2000).`;
      content = `${content.slice(0, MAX_CHARS)}…`;
    }
    const line = `${String(i).padStart(width)}\t${content}\n`;
    if (body.length + line.length > MAX_CHARS && i > start) break;
    body += line;
    shownEnd = i;
  }
  const more = shownEnd < wanted ? ` Continue with start_line ${shownEnd + 1}.` : '';
  const size = r.size > MAX_BYTES ? `, ${formatSize(r.size)}` : '';
  return {
    ok: true,
    output: `${p} (lines ${start}-${shownEnd} of ${total}${size}):${more || longLine ? ` [partial]${more}${longLine}` : ''}\n${body}`,
  };
}

function formatSize(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} KB`;
}

function shellQuote(s: string): string {
  return /^[\w./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const readFile: Tool = {
  spec: {
    name: 'read_file',
    description: `Read a text file of the workspace, with line numbers. Use start_line/end_line (1-based, inclusive) to page through long files; at most ${MAX_LINES} lines per call.`,
    parameters: {
      type: 'object',
      properties: {
        path: { type: 'string' },
        start_line: { type: 'integer' },
        end_line: { type: 'integer' },
      },
      required: ['path'],
    },
  },
  run: withPath(async (p, args, ctx) => {
    if (ctx.sandbox.readLines)
      return readRange(ctx.sandbox as Sandbox & Required<Pick<Sandbox, 'readLines'>>, p, args);
    const text = await readText(ctx.sandbox, p);
    if (text === undefined)
      return fail(`${p} does not exist. Use search or bash (ls) to find the right path.`);
    if (text.includes('\u0000'))
      return fail(`${p} is a binary file (${text.length} bytes); inspect it with bash.`);
    const lines = text.split('\n');
    if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
    const total = lines.length;
    const start = Math.max(1, (args.start_line as number | undefined) ?? 1);
    if (total === 0) return { ok: true, output: `${p} is empty.` };
    if (start > total) return fail(`${p} has ${total} lines; start_line ${start} is past the end.`);
    const wanted = Math.min(total, (args.end_line as number | undefined) ?? total);
    const end = Math.min(wanted, start + MAX_LINES - 1);
    const width = String(end).length;
    let body = '';
    let shownEnd = start - 1;
    for (let i = start; i <= end; i++) {
      const line = `${String(i).padStart(width)}\t${lines[i - 1]}\n`;
      if (body.length + line.length > MAX_CHARS && i > start) break;
      body += line;
      shownEnd = i;
    }
    const more = shownEnd < wanted ? ` Continue with start_line ${shownEnd + 1}.` : '';
    return {
      ok: true,
      output: `${p} (lines ${start}-${shownEnd} of ${total}):${more ? ` [partial]${more}` : ''}\n${body}`,
    };
  }),
};

const writeFile: Tool = {
  spec: {
    name: 'write_file',
    description:
      'Create or overwrite a file of the workspace with the given content (parent folders are created).',
    parameters: {
      type: 'object',
      properties: { path: { type: 'string' }, content: { type: 'string' } },
      required: ['path', 'content'],
    },
  },
  run: withPath(async (p, args, ctx) => {
    const content = args.content as string;
    const existed = ctx.sandbox.fileSize
      ? (await ctx.sandbox.fileSize(p)) !== null
      : (await readText(ctx.sandbox, p)) !== undefined;
    await ctx.sandbox.writeFile(p, content);
    const lines = content === '' ? 0 : content.split('\n').length - (content.endsWith('\n') ? 1 : 0);
    return {
      ok: true,
      output: `${existed ? 'Overwrote' : 'Created'} ${p} (${lines} lines, ${Buffer.byteLength(content)} bytes).`,
      wrote: [p],
    };
  }),
};

function lineOf(text: string, index: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

const editFile: Tool = {
  spec: {
    name: 'edit_file',
    description:
      'Replace an exact piece of text in a file. old_text must match the file exactly (whitespace and indentation included, without read_file line numbers) and occur once, unless replace_all is true.',
    parameters: {
      type: 'object',
      properties: {
        path: { type: 'string' },
        old_text: { type: 'string' },
        new_text: { type: 'string' },
        replace_all: { type: 'boolean' },
      },
      required: ['path', 'old_text', 'new_text'],
    },
  },
  run: withPath(async (p, args, ctx) => {
    const oldText = args.old_text as string;
    const newText = args.new_text as string;
    if (oldText === '') return fail('old_text is empty; to create or overwrite a file use write_file.');
    const size = await ctx.sandbox.fileSize?.(p);
    if (size != null && size > EDIT_MAX_BYTES)
      return fail(
        `${p} is ${formatSize(size)}, too large for edit_file; change it with bash (e.g. sed -i or a Python script).`,
      );
    const text = await readText(ctx.sandbox, p);
    if (text === undefined) return fail(`${p} does not exist; create it with write_file.`);
    const hits: number[] = [];
    for (let i = text.indexOf(oldText); i !== -1; i = text.indexOf(oldText, i + oldText.length)) hits.push(i);
    if (hits.length === 0) {
      const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
      const near = squash(text).includes(squash(oldText))
        ? ' A match exists if whitespace is ignored: copy the exact indentation and line breaks.'
        : '';
      return fail(
        `old_text was not found in ${p}.${near} Use read_file to see the current content of ${p} and try again.`,
      );
    }
    if (hits.length > 1 && args.replace_all !== true) {
      return fail(
        `old_text occurs ${hits.length} times in ${p} (lines ${hits.map((h) => lineOf(text, h)).join(', ')}). Include more surrounding lines to make it unique, or set replace_all to true.`,
      );
    }
    const updated =
      args.replace_all === true ? text.split(oldText).join(newText) : text.replace(oldText, () => newText);
    await ctx.sandbox.writeFile(p, updated);
    return {
      ok: true,
      output: `Edited ${p}: replaced ${hits.length} occurrence${hits.length > 1 ? 's' : ''} at line ${hits.map((h) => lineOf(text, h)).join(', ')}.`,
      wrote: [p],
    };
  }),
};

export const fileTools: Tool[] = [readFile, writeFile, editFile];
