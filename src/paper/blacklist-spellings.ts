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

/**
 * The text as the shell would hand it to a program: quotes and backslashes removed, `$NAME` /
 * `${NAME}` (and a script's `{name}`) replaced by values assigned in sight, `$(echo …)` by its words,
 * adjacent string literals joined. Assignments found on the way are added to `vars`.
 */
export function shellView(input: string, vars: Vars): string {
  const joined = input
    // "https://git" + "hub.com/…" and 'a' 'b' (implicit concatenation in Python).
    .replace(/(["'])\s*\+\s*(["'])/g, '')
    .replace(/\$\(\s*(?:echo|printf)\s+(?:-[neE]+\s+)?([^()]*?)\s*\)/g, '$1')
    .replace(/`\s*(?:echo|printf)\s+(?:-[neE]+\s+)?([^`]*?)\s*`/g, '$1');
  // Script assignments: name = "value" (Python, JS, Ruby …).
  for (const m of joined.matchAll(/\b([A-Za-z_]\w*)\s*=\s*(["'])([^"'\n]{1,500})\2/g)) vars.set(m[1]!, m[3]!);
  // A script's f-string or format field naming a known variable.
  const text = joined.replace(/(?<!\$)\{([A-Za-z_]\w*)\}/g, (f, name: string) => vars.get(name) ?? f);
  let out = '';
  let i = 0;
  let wordStart = true;
  let assign: { name: string; from: number } | undefined;
  const endWord = () => {
    if (assign) vars.set(assign.name, out.slice(assign.from));
    assign = undefined;
  };
  const expand = (at: number): number => {
    // At a '$': returns the index after what was consumed (0 when nothing was expanded).
    const m = /^\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))/.exec(text.slice(at, at + 200));
    const name = m?.[1] ?? m?.[2];
    if (!m || !name || !vars.has(name)) return 0;
    out += vars.get(name);
    return at + m[0].length;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (wordStart && c !== ' ' && c !== '\t') {
      const a = /^(?:export\s+|local\s+|declare\s+(?:-\w+\s+)?)?([A-Za-z_]\w*)=/.exec(text.slice(i, i + 200));
      if (a) {
        out += a[0];
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
      out += c;
      i++;
    } else if (c === '\\') {
      if (text[i + 1] !== '\n') out += text[i + 1] ?? '';
      i += 2;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      const stop = end < 0 ? text.length : end;
      out += text.slice(i + 1, stop);
      i = stop + 1;
    } else if (c === '$' && text[i + 1] === "'") {
      const end = text.indexOf("'", i + 2);
      const stop = end < 0 ? text.length : end;
      out += ansiC(text.slice(i + 2, stop));
      i = stop + 1;
    } else if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        const d = text[i]!;
        if (d === '\\') {
          if (text[i + 1] !== '\n') out += text[i + 1] ?? '';
          i += 2;
        } else {
          const next = d === '$' ? expand(i) : 0;
          if (next) i = next;
          else {
            out += d;
            i++;
          }
        }
      }
      i++;
    } else if (c === '$') {
      const next = expand(i);
      if (next) i = next;
      else {
        out += c;
        i++;
      }
    } else {
      out += c;
      i++;
    }
  }
  endWord();
  return out;
}

function printable(b: Buffer): boolean {
  if (b.length < 8) return false;
  let ok = 0;
  for (const x of b) if ((x >= 0x20 && x < 0x7f) || x === 0x0a || x === 0x09 || x === 0x0d) ok++;
  return ok / b.length >= 0.95;
}

/** Text hidden in base64 or hex runs of `text` (only runs that decode to printable text). */
function decodedRuns(text: string, re: RegExp, encoding: 'base64' | 'hex'): string[] {
  const out: string[] = [];
  let total = 0;
  let tokens = 0;
  for (const m of text.matchAll(re)) {
    if (++tokens > MAX_TOKENS || total > MAX_DECODED) break;
    const run = m[0];
    if (encoding === 'hex' && run.length % 2) continue;
    const b = Buffer.from(run, encoding);
    if (!printable(b)) continue;
    total += b.length;
    out.push(b.toString('latin1'));
  }
  return out;
}

const B64_RUN = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
const HEX_RUN = /\b(?:[0-9a-fA-F]{2}){8,}\b/g;

/**
 * Every spelling of `text` worth matching URLs in, the text as written first. `vars` carries shell and
 * script variables from earlier text of the same session (and gains this text's assignments).
 */
export function textViews(text: string, vars: Vars = new Map(), depth = 0): TextView[] {
  const views: TextView[] = [{ text, how: 'as written' }];
  const shell = shellView(text, vars);
  if (shell !== text) views.push({ text: shell, how: 'shell' });
  const escaped = decodeEscapes(shell);
  if (escaped !== shell) views.push({ text: shellView(escaped, vars), how: 'escapes' });
  views.push({ text: [...text].reverse().join(''), how: 'reversed' });
  if (depth < 2) {
    for (const [re, how] of [
      [B64_RUN, 'base64'],
      [HEX_RUN, 'hex'],
    ] as const)
      for (const decoded of decodedRuns(shell, re, how))
        for (const v of textViews(decoded, vars, depth + 1))
          views.push({ text: v.text, how: v.how === 'as written' ? how : v.how });
  }
  return views;
}
