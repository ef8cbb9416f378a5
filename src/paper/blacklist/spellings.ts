/**
 * The ways a command or an output can spell a URL without writing it plainly: shell quoting and
 * backslashes, variables assigned where the monitor can see them, `$(echo …)`, string concatenation,
 * escapes (`\x68`, `%68`, `chr(104)`), base64 or hex that decodes to text, reversed text. Each
 * spelling is a "view" of the text that the URL matcher reads as well as the text as written.
 */

export type Spelling = 'as written' | 'shell' | 'escapes' | 'base64' | 'hex' | 'reversed';

export interface TextView {
  text: string;
  how: Spelling;
}

/** Variables seen so far (shell `NAME=value`, script `name = "value"`), name → value. */
export type Vars = Map<string, string>;

const SEPARATORS = new Set([' ', '\t', '\n', ';', '&', '|', '(', ')', '<', '>']);
const PLAIN_RUN = /[^ \t\n;&|()<>\\'"$]*/y;
const ASSIGNMENT = /(?:export\s+|local\s+|declare\s+(?:-\w+\s+)?)?([A-Za-z_]\w*)=/y;
const VAR_REF = /\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))/y;
const MAX_DECODED = 1 << 20;
const MAX_TOKENS = 2000;

/** `\xHH`, `\uHHHH`, octal `\NNN`, `%HH` and `chr(N)` turned into the characters they stand for. */
export function decodeEscapes(text: string): string {
  return text
    .replace(/\\x([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
    .replace(/\\u([0-9a-f]{4})/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
    .replace(/\\0?([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8) & 0xff))
    .replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
    .replace(/(?:chr\(\s*(\d{1,3})\s*\)\s*\+?\s*)+/g, (run: string) =>
      [...run.matchAll(/chr\(\s*(\d{1,3})\s*\)/g)].map((m) => String.fromCharCode(Number(m[1]))).join(''),
    );
}

function ansiC(body: string): string {
  const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '', e: '', "'": "'", '"': '"' };
  return decodeEscapes(body).replace(/\\(.)/g, (_, c: string) => simple[c] ?? c);
}

/** What a script spells out in pieces: string literals joined, `$(echo …)` replaced by its words, known variables in f-strings filled in. */
function scriptView(input: string, vars: Vars): string {
  const joined = input
    // "https://git" + "hub.com/…" and 'a' 'b' (implicit concatenation in Python).
    .replace(/(["'])\s*\+\s*(["'])/g, '')
    .replace(/\$\(\s*(?:echo|printf)\s+(?:-[neE]+\s+)?([^()]*?)\s*\)/g, '$1')
    .replace(/`\s*(?:echo|printf)\s+(?:-[neE]+\s+)?([^`]*?)\s*`/g, '$1');
  // Script assignments: name = "value" (Python, JS, Ruby …).
  for (const m of joined.matchAll(/\b([A-Za-z_]\w*)\s*=\s*(["'])([^"'\n]{1,500})\2/g)) vars.set(m[1]!, m[3]!);
  // A script's f-string or format field naming a known variable.
  return joined.replace(/(?<!\$)\{([A-Za-z_]\w*)\}/g, (f, name: string) => vars.get(name) ?? f);
}

/**
 * The text as the shell would hand it to a program: quotes and backslashes removed, `$NAME` /
 * `${NAME}` (and a script's `{name}`) replaced by values assigned in sight, `$(echo …)` by its words,
 * adjacent string literals joined. Assignments found on the way are added to `vars`.
 */
export function shellView(input: string, vars: Vars): string {
  const text = scriptView(input, vars);
  // Pieces joined at the end: slicing a string built with += flattens it each time.
  const out: string[] = [];
  let i = 0;
  let wordStart = true;
  let assign: { name: string; from: number } | undefined;
  const endWord = () => {
    if (assign) vars.set(assign.name, out.slice(assign.from).join(''));
    assign = undefined;
  };
  const expand = (at: number): number => {
    // At a '$': returns the index after what was consumed (0 when nothing was expanded).
    VAR_REF.lastIndex = at;
    const m = VAR_REF.exec(text);
    const name = m?.[1] ?? m?.[2];
    if (!m || !name || !vars.has(name)) return 0;
    out.push(vars.get(name) ?? '');
    return at + m[0].length;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (wordStart && c !== ' ' && c !== '\t') {
      ASSIGNMENT.lastIndex = i;
      const a = ASSIGNMENT.exec(text);
      if (a) {
        out.push(a[0]);
        i += a[0].length;
        assign = { name: a[1]!, from: out.length };
        wordStart = false;
        continue;
      }
      wordStart = false;
    }
    if (SEPARATORS.has(c)) {
      endWord();
      wordStart = true;
      out.push(c);
      i++;
    } else if (c === '\\') {
      if (text[i + 1] !== '\n') out.push(text[i + 1] ?? '');
      i += 2;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      const stop = end < 0 ? text.length : end;
      out.push(text.slice(i + 1, stop));
      i = stop + 1;
    } else if (c === '$' && text[i + 1] === "'") {
      const end = text.indexOf("'", i + 2);
      const stop = end < 0 ? text.length : end;
      out.push(ansiC(text.slice(i + 2, stop)));
      i = stop + 1;
    } else if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        const d = text[i]!;
        if (d === '\\') {
          if (text[i + 1] !== '\n') out.push(text[i + 1] ?? '');
          i += 2;
        } else {
          const next = d === '$' ? expand(i) : 0;
          if (next) i = next;
          else {
            out.push(d);
            i++;
          }
        }
      }
      i++;
    } else if (c === '$') {
      const next = expand(i);
      if (next) i = next;
      else {
        out.push(c);
        i++;
      }
    } else {
      // A run of ordinary characters is copied at once.
      PLAIN_RUN.lastIndex = i;
      PLAIN_RUN.exec(text);
      const stop = Math.max(i + 1, PLAIN_RUN.lastIndex);
      out.push(text.slice(i, stop));
      i = stop;
    }
  }
  endWord();
  return out.join('');
}

function printable(b: Buffer): boolean {
  if (b.length < 8) return false;
  let ok = 0;
  for (const x of b) if ((x >= 0x20 && x < 0x7f) || x === 0x0a || x === 0x09 || x === 0x0d) ok++;
  return ok / b.length >= 0.95;
}

/**
 * Whether a run can decode to text, checked without decoding. Base64: the first character of each
 * group of 4 carries a byte's top 6 bits, so for 0x20–0x7e (and tab/newline) it is C or I–Z or a–f.
 * Hex: the first digit of each byte of text is 0 (tab, newline) or 2–7.
 */
function mayBeText(run: string, encoding: 'base64' | 'hex'): boolean {
  const step = encoding === 'base64' ? 4 : 2;
  for (let i = 0; i + step <= run.length; i += step) {
    const c = run.charCodeAt(i);
    const ok =
      encoding === 'base64'
        ? c === 67 || (c >= 73 && c <= 90) || (c >= 97 && c <= 102)
        : c === 48 || (c >= 50 && c <= 55);
    if (!ok) return false;
  }
  return true;
}

const B64_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-')
  B64_CHAR[c.charCodeAt(0)] = 1;
const HEX_CHAR = new Uint8Array(128);
for (const c of '0123456789abcdefABCDEF') HEX_CHAR[c.charCodeAt(0)] = 1;
const WORD_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')
  WORD_CHAR[c.charCodeAt(0)] = 1;
const isIn = (table: Uint8Array, c: number) => c < 128 && table[c] === 1;

/**
 * Maximal runs of base64 (with its `=` padding) or hex characters, 16 or more long; a hex run must
 * stand alone (not inside a word). One pass over the text: a regex would rescan each short word
 * from every one of its characters.
 */
function* encodedRuns(text: string, encoding: 'base64' | 'hex'): Generator<string> {
  const table = encoding === 'base64' ? B64_CHAR : HEX_CHAR;
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0;
    if (isIn(table, c)) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0 && i - start >= 16) {
      if (encoding === 'base64') {
        let end = i;
        while (end < text.length && end - i < 2 && text[end] === '=') end++;
        yield text.slice(start, end);
      } else if (!isIn(WORD_CHAR, c) && !(start > 0 && isIn(WORD_CHAR, text.charCodeAt(start - 1))))
        yield text.slice(start, i - ((i - start) % 2));
    }
    start = -1;
  }
}

/** Text hidden in base64 or hex runs of `text` (only runs that decode to printable text). */
function decodedRuns(text: string, encoding: 'base64' | 'hex'): string[] {
  const out: string[] = [];
  let total = 0;
  let tokens = 0;
  for (const run of encodedRuns(text, encoding)) {
    if (!mayBeText(run, encoding)) continue;
    if (++tokens > MAX_TOKENS || total > MAX_DECODED) break;
    const b = Buffer.from(run, encoding);
    if (!printable(b)) continue;
    total += b.length;
    out.push(b.toString('latin1'));
  }
  return out;
}

export interface ViewOptions {
  /** Shell and script variables from earlier text of the same session (gains this text's assignments). */
  vars?: Vars;
  /**
   * Lower-case strings every match must contain in the view it is found in (the blacklisted hosts'
   * names, their paths). Views that cannot contain one are not built: a long output without them costs
   * a few scans instead of a shell parse. Without hints every view is built.
   */
  hints?: string[];
  /** Look for base64 and hex runs that decode to text (default true; off for long tool outputs). */
  decode?: boolean;
}

const hasHint = (lower: string, hints: string[]) => hints.some((h) => lower.includes(h));

/** Cheap stand-in for the shell view's assignments when the text is not parsed. */
function collectAssignments(text: string, vars: Vars): void {
  for (const m of text.matchAll(/(?:^|[\s;&|(])([A-Za-z_]\w*)=([^\s;&|()<>]*)/g))
    vars.set(m[1]!, m[2]!.replace(/['"\\]/g, ''));
}

/** Whether the shell view of `text` could hold a hint the text as written does not show. */
function shellMayReveal(text: string, vars: Vars, hints: string[]): boolean {
  const squeezed = text.replace(/\\\n|['"\\`]|\s*\+\s*/g, '').toLowerCase();
  if (hasHint(squeezed, hints)) return true;
  for (const m of text.matchAll(/\$\{?([A-Za-z_]\w*)|\{([A-Za-z_]\w*)\}/g))
    if (vars.has((m[1] ?? m[2])!)) return true;
  return false;
}

/**
 * Every spelling of `text` worth matching URLs in, the text as written first.
 */
export function textViews(text: string, opts: ViewOptions = {}, depth = 0): TextView[] {
  const vars = opts.vars ?? new Map<string, string>();
  const hints = opts.hints;
  const views: TextView[] = [{ text, how: 'as written' }];
  let shell = text;
  if (!hints || shellMayReveal(text, vars, hints)) {
    shell = shellView(text, vars);
    if (shell !== text) views.push({ text: shell, how: 'shell' });
  } else if (opts.vars) collectAssignments(text, vars);
  if (/[\\%]|chr\(/i.test(shell)) {
    const escaped = decodeEscapes(shell);
    if (escaped !== shell) views.push({ text: shellView(escaped, vars), how: 'escapes' });
  }
  const lower = text.toLowerCase();
  if (
    !hints ||
    hasHint(
      lower,
      hints.map((h) => [...h].reverse().join('')),
    )
  )
    views.push({ text: [...text].reverse().join(''), how: 'reversed' });
  if (depth < 2 && opts.decode !== false) {
    for (const how of ['base64', 'hex'] as const)
      for (const decoded of decodedRuns(shell, how))
        for (const v of textViews(decoded, opts, depth + 1))
          views.push({ text: v.text, how: v.how === 'as written' ? how : v.how });
  }
  return views;
}
