/**
 * Resources the agent must not use: the paper's official code repositories (found in the paper text),
 * PaperBench's blacklist.txt, and the user's own entries. The bash tool refuses commands that reach
 * them; git inside the container refuses them (guard.ts); the monitor scans every step's
 * commands and outputs for them, in any spelling spellings.ts can read.
 */
import { readFile } from 'node:fs/promises';
import { PaperError } from '../errors';
import type { Paper } from '../types';
import { type Spelling, textViews, type Vars } from './spellings';

export type BlacklistSource = 'paper' | 'paperbench' | 'user';

export interface BlacklistEntry {
  /** Normalised "host/path": lower case, no scheme, no www., no .git, no trailing slash. */
  pattern: string;
  raw: string;
  source: BlacklistSource;
}

export interface BlacklistMatch {
  entry: BlacklistEntry;
  /** The URL or reference as it reads in the spelling it was found in. */
  found: string;
  /** How it was spelled: as written, after the shell's quoting and variables, base64, … */
  how: Spelling;
}

export interface BlacklistHit extends BlacklistMatch {
  where: 'tool_call' | 'tool_result';
  tool: string;
  step: number;
  /** The event it was seen in. */
  seq?: number;
  callId?: string;
  /** The tool call it belongs to (the call itself, or the call whose output it is in). */
  callSeq?: number;
  /** The command (bash) or the arguments of that tool call. */
  command: string;
  excerpt: string;
}

// A host followed by a path; the scheme, user and port are optional, a trailing dot on the host
// (`github.com./o/r`, the absolute DNS name) is allowed.
const URL_RE =
  /(?:(?:git\+)?(?:https?|git|ssh):\/\/(?:git@)?|git@)?(?:www\.)?((?:[a-z0-9-]+\.)+[a-z]{2,})\.?(?::\d+)?[/:]([^\s'"`<>()[\]{},;|\\]*)/gi;

/** "host/path" for a URL-ish string; undefined when it has no host. */
export function normalizeTarget(raw: string): string | undefined {
  URL_RE.lastIndex = 0;
  const m = URL_RE.exec(raw.trim());
  if (!m) {
    const bare = /^((?:[a-z0-9-]+\.)+[a-z]{2,})$/i.exec(raw.trim());
    return bare ? bare[1]!.toLowerCase().replace(/^www\./, '') : undefined;
  }
  return canonical(m[1]!, m[2]!);
}

function canonical(hostIn: string, pathIn: string): string {
  let host = hostIn.toLowerCase().replace(/^www\./, '');
  let path = pathIn
    .toLowerCase()
    .replace(/[?#].*$/, '')
    .replace(/\/{2,}/g, '/')
    .replace(/^\//, '')
    .replace(/[./]+$/, '')
    .replace(/@[^/]*/, '') // pip's git+https://host/owner/repo@ref
    .replace(/\.git(?=\/|$)/, '');
  // Other doors to the same GitHub repository.
  if (['raw.githubusercontent.com', 'codeload.github.com', 'ssh.github.com'].includes(host))
    host = 'github.com';
  if (host === 'api.github.com' && path.startsWith('repos/')) {
    host = 'github.com';
    path = path.slice('repos/'.length);
  }
  return path ? `${host}/${path}` : host;
}

export function parseBlacklistTxt(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l && l.toLowerCase() !== 'none');
}

const CODE_HOSTS = /^(github\.com|gitlab\.com|bitbucket\.org|codeberg\.org|huggingface\.co\/spaces)/;
const OWN_CODE =
  /(code|implementation|source|software|repository|repo|models?|checkpoints?)\s+(is|are|will be|has been|have been)\s+(publicly\s+|made\s+|openly\s+)?(available|released|open[- ]sourced)|\bour (code|implementation|source code|repository|codebase)\b|\bcode\s*:|\bwe (release|open[- ]source|make .{0,30}available)|\bproject page\b|\bofficial (code|implementation)\b|\bcode (and|&) (data|models)\b|\bavailable at\b/i;

/**
 * Code repositories the paper presents as its own: code-host URLs outside the references whose
 * surrounding text says "code is available", "our implementation", "Code:", etc.
 */
export function officialRepos(paper: Pick<Paper, 'markdown' | 'sections'>): string[] {
  const md = paper.markdown;
  const refs = paper.sections.filter((s) => /^(\d+\s+)?(references|bibliography)$/i.test(s.title.trim()));
  const out = new Set<string>();
  URL_RE.lastIndex = 0;
  for (let m = URL_RE.exec(md); m; m = URL_RE.exec(md)) {
    const target = canonical(m[1]!, m[2]!);
    if (!CODE_HOSTS.test(target) || target.split('/').length < 3) continue;
    if (refs.some((r) => m!.index >= r.start && m!.index < r.end)) continue;
    if (OWN_CODE.test(sentenceAround(md, m.index, m.index + m[0].length)))
      out.add(target.split('/').slice(0, 3).join('/'));
  }
  return [...out];
}

/** The sentence holding [from, to), plus the one before when this one says little besides the URL. */
function sentenceAround(md: string, from: number, to: number): string {
  const boundary = /[.!?]\s|\n\n/g;
  let start = 0;
  let prevStart = 0;
  for (let b = boundary.exec(md); b && b.index < from; b = boundary.exec(md)) {
    prevStart = start;
    start = b.index + b[0].length;
  }
  const after = md.slice(to).search(/[.!?]\s|\n\n/);
  const end = after < 0 ? md.length : to + after;
  const own = md.slice(start, end);
  return own.length - (to - from) < 25 ? md.slice(prevStart, end) : own;
}

export class Blacklist {
  private readonly list: BlacklistEntry[] = [];
  private hintCache: { size: number; hints: string[] } | undefined;

  constructor(entries: { raw: string; source: BlacklistSource }[] = []) {
    for (const e of entries) this.add(e.raw, e.source);
  }

  add(raw: string, source: BlacklistSource): void {
    const pattern = normalizeTarget(raw);
    if (!pattern) throw new PaperError(raw, 'not a URL or host/path that can be blacklisted');
    if (!this.list.some((e) => e.pattern === pattern)) this.list.push({ pattern, raw: raw.trim(), source });
  }

  get entries(): readonly BlacklistEntry[] {
    return this.list;
  }

  /** Normalised host/path patterns, e.g. for the agent's head. */
  patterns(): string[] {
    return this.list.map((e) => e.pattern);
  }

  get size(): number {
    return this.list.length;
  }

  /**
   * What any match must contain, lower case: a blacklisted host's first name (github for github.com,
   * raw.githubusercontent.com and codeload.github.com alike) or a repository's path (`gh repo clone`).
   */
  private hints(): string[] {
    if (this.hintCache?.size !== this.list.length) {
      const all = this.list.flatMap((e) => [
        e.pattern.split(/[./]/)[0]!,
        e.pattern.split('/').slice(1).join('/'),
      ]);
      this.hintCache = { size: this.list.length, hints: [...new Set(all)].filter(Boolean) };
    }
    return this.hintCache.hints;
  }

  /**
   * Every blacklisted repository the text reaches (host+path prefix, any scheme, .git, www., case),
   * however it is spelled: see textViews. One match per repository and spelling. `vars` carries the
   * variables assigned in earlier text of the same session.
   */
  matches(text: string, vars?: Vars, opts: { decode?: boolean } = {}): BlacklistMatch[] {
    if (!this.list.length) return [];
    const out: BlacklistMatch[] = [];
    const check = (target: string, found: string, how: Spelling) => {
      for (const entry of this.list)
        if (
          (target === entry.pattern || target.startsWith(`${entry.pattern}/`)) &&
          !out.some((m) => m.entry === entry && m.how === how)
        )
          out.push({ entry, found, how });
    };
    const hints = this.hints();
    for (const view of textViews(text, { ...opts, ...(vars ? { vars } : {}), hints })) {
      if (!hints.some((h) => view.text.toLowerCase().includes(h))) continue;
      const re = new RegExp(URL_RE.source, 'gi');
      for (let m = re.exec(view.text); m; m = re.exec(view.text))
        check(canonical(m[1]!, m[2]!), m[0], view.how);
      // `gh repo clone owner/repo` reaches GitHub without writing its host.
      const gh = /\bgh\s+repo\s+(?:clone|view|fork)\s+([\w.-]+\/[\w.-]+)/gi;
      for (let m = gh.exec(view.text); m; m = gh.exec(view.text))
        check(canonical('github.com', m[1]!), m[0], view.how);
    }
    return out;
  }

  match(text: string): BlacklistMatch | undefined {
    return this.matches(text)[0];
  }

  isBlacklisted(commandOrText: string): boolean {
    return this.matches(commandOrText).length > 0;
  }

  /** Refusal text for a tool, or undefined when the command is allowed. */
  refusal(command: string, vars?: Vars): string | undefined {
    // A copy: a refused command's assignments never ran.
    const m = this.matches(command, vars && new Map(vars))[0];
    if (!m) return undefined;
    return `Refused: ${m.found} is blacklisted (${m.entry.source === 'paper' ? "the paper's official code" : m.entry.source === 'paperbench' ? 'PaperBench blacklist' : 'blocked by the user'}). Reproduce the paper without the authors' code.`;
  }

  /** For the agent's pinned head. */
  describe(): string {
    if (!this.list.length) return 'Blacklist: none.';
    return `Blacklist — do not access, clone, download or copy from:\n${this.list.map((e) => `- ${e.pattern} (${e.source})`).join('\n')}`;
  }
}

export interface LoadBlacklistOptions {
  paper?: Pick<Paper, 'markdown' | 'sections'>;
  /** PaperBench blacklist.txt ("none" = empty). */
  file?: string;
  user?: string[];
}

export async function loadBlacklist(opts: LoadBlacklistOptions = {}): Promise<Blacklist> {
  const bl = new Blacklist();
  if (opts.paper) for (const r of officialRepos(opts.paper)) bl.add(r, 'paper');
  if (opts.file) {
    let text: string;
    try {
      text = await readFile(opts.file, 'utf8');
    } catch (err) {
      throw new PaperError(opts.file, 'blacklist file not found or unreadable', { cause: err });
    }
    for (const r of parseBlacklistTxt(text)) bl.add(r, 'paperbench');
  }
  for (const r of opts.user ?? []) bl.add(r, 'user');
  return bl;
}

/**
 * The fields of a session event (src/events/events.ts) the monitor reads; declared structurally so that
 * this layer does not import the agent's.
 */
export interface ScannableEvent {
  type: string;
  seq?: number;
  step?: number;
  callId?: string;
  name?: string;
  args?: string;
  output?: string;
}

const COMMAND_MAX = 2000;

function cap(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The strings of a tool call's JSON arguments (each scanned on its own), or the raw text. */
function argStrings(args: string): string[] {
  try {
    const v = JSON.parse(args) as unknown;
    if (v && typeof v === 'object')
      return Object.values(v as Record<string, unknown>).filter((x): x is string => typeof x === 'string');
  } catch {
    // Malformed arguments: scan them as they are.
  }
  return [args];
}

/** The command of a bash or job_start call, or the call's arguments. */
function commandOf(name: string, args: string): string {
  try {
    const v = JSON.parse(args) as Record<string, unknown>;
    if ((name === 'bash' || name === 'job_start') && typeof v?.command === 'string') return v.command;
  } catch {
    // fall through
  }
  return args;
}

/**
 * The monitor: blacklisted repositories in a session's tool calls (commands, arguments) and outputs,
 * in any spelling textViews knows, with the variables the session's commands assigned so far. One
 * finding per tool call and repository (a refused clone is found in the command, not again in its
 * error). read_paper output is skipped: the paper naming its own repository is not a use of it.
 */
export class BlacklistMonitor {
  private readonly vars: Vars = new Map();
  /** Tool calls by id (ids may repeat over a session: the latest call with an id owns its result). */
  private readonly calls = new Map<string, { command: string; seq?: number }>();
  private readonly seen = new Set<string>();

  constructor(private readonly blacklist: Blacklist) {}

  /** Identity of a finding: the tool call it belongs to and the repository. */
  static key(h: { callSeq?: number; callId?: string; repo: string }): string {
    return `${h.callSeq !== undefined ? `#${h.callSeq}` : (h.callId ?? '')}|${h.repo}`;
  }

  /** The bash tool's refusal for a command, with the variables the session's earlier commands set. */
  refusal(command: string): string | undefined {
    return this.blacklist.refusal(command, this.vars);
  }

  /** A finding already recorded (read back from the log): not reported again. */
  markRecorded(h: { callSeq?: number; callId?: string; repo: string }): void {
    this.seen.add(BlacklistMonitor.key(h));
  }

  observe(ev: ScannableEvent): BlacklistHit[] {
    if (!this.blacklist.size || (ev.type !== 'tool_call' && ev.type !== 'tool_result')) return [];
    const tool = ev.name ?? '';
    let texts: string[];
    let call: { command: string; seq?: number };
    if (ev.type === 'tool_call') {
      const args = ev.args ?? '';
      texts = argStrings(args);
      call = {
        command: cap(commandOf(tool, args), COMMAND_MAX),
        ...(ev.seq !== undefined ? { seq: ev.seq } : {}),
      };
      if (ev.callId) this.calls.set(ev.callId, call);
    } else {
      if (tool === 'read_paper') return [];
      texts = [ev.output ?? ''];
      call = (ev.callId && this.calls.get(ev.callId)) || { command: '' };
    }
    const callSeq = call.seq;
    const command = call.command;
    const hits: BlacklistHit[] = [];
    // Outputs are not decoded: the agent writes what it decodes (commands, file contents), and logs
    // are long; anything that reaches git is refused by the guard, whose message is found here. An
    // output assigns no variables in the session's shell.
    const isCall = ev.type === 'tool_call';
    for (const text of texts)
      for (const m of this.blacklist.matches(text, isCall ? this.vars : undefined, { decode: isCall })) {
        const key = BlacklistMonitor.key({
          ...(callSeq !== undefined ? { callSeq } : {}),
          ...(ev.callId ? { callId: ev.callId } : {}),
          repo: m.entry.pattern,
        });
        if (this.seen.has(key)) continue;
        this.seen.add(key);
        const at = text.toLowerCase().indexOf(m.found.toLowerCase());
        const excerpt =
          at < 0 ? m.found : text.slice(Math.max(0, at - 60), at + m.found.length + 60).replace(/\s+/g, ' ');
        hits.push({
          ...m,
          where: ev.type,
          tool,
          step: ev.step ?? 0,
          ...(ev.seq !== undefined ? { seq: ev.seq } : {}),
          ...(ev.callId ? { callId: ev.callId } : {}),
          ...(callSeq !== undefined ? { callSeq } : {}),
          command,
          excerpt: cap(excerpt, 400),
        });
      }
    return hits;
  }
}

/** The monitor over a whole list of events (e.g. a finished session). */
export function scanEvents(events: Iterable<ScannableEvent>, blacklist: Blacklist): BlacklistHit[] {
  const monitor = new BlacklistMonitor(blacklist);
  const hits: BlacklistHit[] = [];
  for (const ev of events) hits.push(...monitor.observe(ev));
  return hits;
}

/** The monitor over a session's events.jsonl (one JSON event per line; unreadable lines are skipped). */
export async function scanEventLog(path: string, blacklist: Blacklist): Promise<BlacklistHit[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new PaperError(path, 'event log not found or unreadable', { cause: err });
  }
  const events: ScannableEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line) as unknown;
      if (v && typeof v === 'object' && typeof (v as ScannableEvent).type === 'string')
        events.push(v as ScannableEvent);
    } catch {
      // A torn last line after a crash: the session layer drops it too.
    }
  }
  return scanEvents(events, blacklist);
}
