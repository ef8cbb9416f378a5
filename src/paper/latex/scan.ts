/**
 * Reading LaTeX text: balanced groups and arguments, control words, comments, and the structure the
 * converter splits at (environment bodies, table rows and cells, list items). Not a TeX engine: it
 * reads what papers commonly write and leaves the rest as text; nothing here throws on odd input (an
 * unbalanced brace runs to the end of the text).
 */

export interface Span {
  text: string;
  /** Index just after what was read. */
  end: number;
}

/** A letter of a control word: A-Z, a-z or @. */
export function isLetter(c: string | undefined): boolean {
  if (c === undefined) return false;
  const n = c.charCodeAt(0);
  return (n >= 65 && n <= 90) || (n >= 97 && n <= 122) || n === 64; // A-Z a-z @
}

/** Index of the `}` that closes the `{` at `open` (escaped braces skipped), or s.length if none does. */
export function matchBrace(s: string, open: number, openCh = '{', closeCh = '}'): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === openCh) depth++;
    else if (c === closeCh && --depth === 0) return i;
  }
  return s.length;
}

/** Spaces, tabs and at most one newline (a blank line ends a macro's arguments in TeX). */
export function skipSpace(s: string, i: number): number {
  let nl = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === '\n') {
      if (++nl > 1) break;
    } else if (c !== ' ' && c !== '\t' && c !== '\r') break;
    i++;
  }
  return i;
}

/** `{...}` at i (after spaces), or undefined. */
export function readGroup(s: string, i: number): Span | undefined {
  const j = skipSpace(s, i);
  if (s[j] !== '{') return undefined;
  const close = matchBrace(s, j);
  return { text: s.slice(j + 1, close), end: Math.min(close + 1, s.length) };
}

/** A mandatory argument: a group, a control sequence or one character (TeX's rules, simplified). */
export function readArg(s: string, i: number): Span {
  const j = skipSpace(s, i);
  if (j >= s.length) return { text: '', end: j };
  if (s[j] === '{') return readGroup(s, j)!;
  if (s[j] === '\\') {
    let k = j + 1;
    if (isLetter(s[k])) while (isLetter(s[k])) k++;
    else k++;
    return { text: s.slice(j, k), end: k };
  }
  return { text: s[j]!, end: j + 1 };
}

/** `[...]` at i (after spaces), with braces inside kept whole, or undefined. */
export function readOptional(s: string, i: number, allowSpace = true): Span | undefined {
  const j = allowSpace ? skipSpace(s, i) : i;
  if (s[j] !== '[') return undefined;
  let depth = 0;
  for (let k = j + 1; k < s.length; k++) {
    const c = s[k];
    if (c === '\\') k++;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ']' && depth <= 0) return { text: s.slice(j + 1, k), end: k + 1 };
  }
  return undefined;
}

/** A control word at i (`\name`, with a trailing `*` if any). */
export function readControl(s: string, i: number): { name: string; star: boolean; end: number } {
  let k = i + 1;
  if (!isLetter(s[k])) return { name: s[k] ?? '', star: false, end: Math.min(k + 1, s.length) };
  while (isLetter(s[k])) k++;
  const name = s.slice(i + 1, k);
  const star = s[k] === '*';
  return { name, star, end: star ? k + 1 : k };
}

/**
 * Comments removed: `%` (not `\%`) to the end of the line, and the newline and indentation after
 * it, as TeX reads them; plus `\begin{comment}` blocks and `\iffalse … \fi`.
 */
export function stripComments(s: string): string {
  // Verbatim text keeps its % signs: set aside, then put back.
  const kept: string[] = [];
  const text = s.replace(/\r\n?/g, '\n').replace(VERBATIM_RE, (m) => `\u0003${kept.push(m) - 1}\u0003`);
  let out = text.replace(/(^|[^\\])((?:\\\\)*)%[^\n]*(?:\n[ \t]*)?/gm, '$1$2');
  // A line that held only a comment joined its neighbours; a blank line around it stays.
  out = out.replace(/\\begin\{comment\}[\s\S]*?(?:\\end\{comment\}|$)/g, '');
  return removeIffalse(out).replace(/\u0003(\d+)\u0003/g, (_, n: string) => kept[Number(n)] ?? '');
}

const VERBATIM_RE =
  /\\begin\{(verbatim\*?|Verbatim|lstlisting|minted|BVerbatim)\}[\s\S]*?\\end\{\1\}|\\verb\*?([^a-zA-Z\s*])[^\n]*?\2/g;

function removeIffalse(s: string): string {
  let out = '';
  let from = 0;
  for (;;) {
    const at = s.indexOf('\\iffalse', from);
    if (at < 0 || isLetter(s[at + 8])) return out + s.slice(from);
    out += s.slice(from, at);
    // Skip to the \fi that closes it, counting nested \if… conditionals.
    const re = /\\(if[a-zA-Z@]*|fi)(?![a-zA-Z@])/g;
    re.lastIndex = at + 8;
    let depth = 1;
    let end = s.length;
    for (let m = re.exec(s); m; m = re.exec(s)) {
      if (m[1] === 'fi') depth--;
      else depth++;
      if (depth === 0) {
        end = m.index + 3;
        break;
      }
    }
    from = end;
  }
}

/** Whether the character at i is preceded by an odd number of backslashes. */
export function isEscaped(s: string, i: number): boolean {
  let n = 0;
  for (let k = i - 1; k >= 0 && s[k] === '\\'; k--) n++;
  return n % 2 === 1;
}

/** Past a `[…]` at i, if there is one. */
export function skipOptional(s: string, i: number): number {
  const o = readOptional(s, i);
  return o ? o.end : i;
}

/** Leading environment arguments removed: `[opt]` up to `optional` times, then `mandatory` groups. */
export function skipArgs(body: string, [optional, mandatory]: [number, number]): string {
  let i = 0;
  for (let k = 0; k < optional; k++) i = skipOptional(body, i);
  for (let k = 0; k < mandatory; k++) {
    const j = skipSpace(body, i);
    if (body[j] !== '{') break;
    i = readArg(body, j).end;
  }
  return body.slice(i);
}

/** The body of `\begin{name}` starting at i, up to its own `\end{name}` (nesting counted). */
export function envBody(s: string, i: number, name: string): { body: string; end: number } {
  const open = `\\begin{${name}}`;
  const close = `\\end{${name}}`;
  let depth = 1;
  let k = i;
  for (;;) {
    const a = s.indexOf(open, k);
    const b = s.indexOf(close, k);
    if (b < 0) return { body: s.slice(i), end: s.length };
    if (a >= 0 && a < b) {
      depth++;
      k = a + open.length;
      continue;
    }
    if (--depth === 0) return { body: s.slice(i, b), end: b + close.length };
    k = b + close.length;
  }
}

/** `s` split at `sep` where it is not inside braces or a nested environment. */
export function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let env = 0;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (s.startsWith(sep, i) && depth === 0 && env === 0 && !isEscaped(s, i)) {
      out.push(s.slice(from, i));
      i += sep.length - 1;
      from = i + 1;
      continue;
    }
    if (c === '\\') {
      if (s.startsWith('\\begin{', i)) env++;
      else if (s.startsWith('\\end{', i)) env = Math.max(0, env - 1);
      i++;
    } else if (c === '{') depth++;
    else if (c === '}') depth = Math.max(0, depth - 1);
  }
  out.push(s.slice(from));
  return out;
}

/** A list's body split at its own `\item`s (not those of nested lists), with their `[label]`s. */
export function splitItems(body: string): { label?: string; body: string }[] {
  const out: { label?: string; body: string }[] = [];
  let depth = 0;
  let env = 0;
  let start = -1;
  let label: string | undefined;
  const push = (end: number) => {
    if (start >= 0) out.push({ ...(label !== undefined ? { label } : {}), body: body.slice(start, end) });
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') {
      if (depth === 0 && env === 0 && /^\\(item|bibitem)(?![a-zA-Z])/.test(body.slice(i, i + 9))) {
        push(i);
        const bib = body.startsWith('\\bibitem', i);
        let j = i + (bib ? 8 : 5);
        const o = readOptional(body, j);
        label = bib ? undefined : o?.text;
        if (o) j = o.end;
        start = j;
        i = j - 1;
        continue;
      }
      if (body.startsWith('\\begin{', i)) env++;
      else if (body.startsWith('\\end{', i)) env = Math.max(0, env - 1);
      i++;
    } else if (c === '{') depth++;
    else if (c === '}') depth = Math.max(0, depth - 1);
  }
  push(body.length);
  return out;
}
