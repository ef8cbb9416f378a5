/**
 * The TeX-reading half of the LaTeX reader: balanced groups and arguments, comments, \input, and
 * simple macros. Not a TeX engine: it reads what papers commonly write and leaves the rest as text;
 * nothing here throws on odd input (an unbalanced brace runs to the end of the text).
 */

export interface Span {
  text: string;
  /** Index just after what was read. */
  end: number;
}

function isLetter(c: string | undefined): boolean {
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

/** How an \input'd name is found: the reader gives a file's text by its normalized path, if any. */
export type ReadFile = (path: string) => string | undefined;

/** `a/./b/../c` → `a/c`; undefined for absolute paths and paths that climb out of the root. */
export function normalizePath(p: string): string | undefined {
  if (/^([/\\]|[A-Za-z]:)/.test(p)) return undefined;
  const out: string[] = [];
  for (const part of p.replace(/\\/g, '/').split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (!out.length) return undefined;
      out.pop();
    } else out.push(part);
  }
  return out.join('/');
}

const dirOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/') + 1) : '');

/**
 * `\input`, `\include`, `\subfile`, `\import`/`\subimport` replaced by the files' text (comments
 * removed), relative to the main file's folder as LaTeX does, then to the including file's.
 * Missing files and cycles are reported in `warnings` and left out.
 */
export function resolveInputs(
  text: string,
  read: ReadFile,
  mainPath: string,
  warnings: string[],
  depth = 0,
  current = mainPath,
  seen = new Set<string>([mainPath]),
): string {
  const re = /\\(input|include|subfile|import|subimport|includefrom|subincludefrom)(?![a-zA-Z@])/g;
  let out = '';
  let from = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (isEscaped(text, m.index)) continue;
    const cmd = m[1]!;
    let end = m.index + m[0].length;
    let name: string;
    let dir = '';
    if (cmd === 'import' || cmd === 'subimport' || cmd.endsWith('from')) {
      const d = readArg(text, end);
      const f = readArg(text, d.end);
      dir = d.text.trim();
      if (dir && !dir.endsWith('/')) dir += '/';
      name = f.text;
      end = f.end;
      if (cmd.startsWith('sub')) dir = dirOf(current) + dir;
    } else {
      const g = readGroup(text, end);
      if (g) {
        name = g.text;
        end = g.end;
      } else {
        // `\input file` (TeX's own syntax): the name runs to the next space or brace.
        const j = skipSpace(text, end);
        const w = /^[^\s{}\\%]+/.exec(text.slice(j));
        if (!w) continue;
        name = w[0];
        end = j + w[0].length;
      }
    }
    name = name.trim().replace(/^"|"$/g, '');
    // A macro's `\input{figs/#1}` is read once the macro is expanded.
    if (name.includes('#')) continue;
    out += text.slice(from, m.index);
    from = end;
    const candidates = [dir + name, dirOf(current) + dir + name];
    let found: { path: string; text: string } | undefined;
    for (const c of candidates) {
      for (const p of [`${c}.tex`, c]) {
        const n = normalizePath(p);
        const t = n === undefined ? undefined : read(n);
        if (t !== undefined && n !== undefined) {
          found = { path: n, text: t };
          break;
        }
      }
      if (found) break;
    }
    if (!found) {
      warnings.push(`\\${cmd}{${name}}: no such file in the source`);
      continue;
    }
    if (seen.has(found.path) || depth >= 20) {
      warnings.push(`\\${cmd}{${name}}: included in itself; left out`);
      continue;
    }
    const inner = resolveInputs(
      stripComments(found.text),
      read,
      mainPath,
      warnings,
      depth + 1,
      found.path,
      new Set([...seen, found.path]),
    );
    out += cmd === 'include' ? `\n\n${inner}\n\n` : inner;
  }
  return out + text.slice(from);
}

/** Whether the character at i is preceded by an odd number of backslashes. */
function isEscaped(s: string, i: number): boolean {
  let n = 0;
  for (let k = i - 1; k >= 0 && s[k] === '\\'; k--) n++;
  return n % 2 === 1;
}

export interface Macro {
  args: number;
  /** Default of an optional first argument (`\newcommand{\x}[2][d]{…}`). */
  optional?: string;
  body: string;
}

export interface Theorem {
  title: string;
  /** The counter it numbers with (its own name, or the one it shares). */
  counter: string;
  /** Numbered within sections (`[section]`): 2.1, 2.2, … */
  within?: string;
  numbered: boolean;
}

export interface Macros {
  commands: Map<string, Macro>;
  /** `\newenvironment{name}[n]{begin}{end}`. */
  environments: Map<string, Macro & { after: string }>;
  /** `\newtheorem{name}[shared]{Title}[within]`: theorem-like environments. */
  theorems: Map<string, Theorem>;
}

const DEFINITION =
  /\\(?:(re)?newcommand|providecommand|DeclareRobustCommand|[gex]?def|let|DeclareMathOperator|(?:re)?newenvironment|newtheorem)(?![a-zA-Z@])\*?/g;

/**
 * Definitions read and removed from the text. `keep` names commands the converter itself handles:
 * a class or package redefining them (`\renewcommand\section{…}`) must not hide them.
 */
export function collectMacros(
  text: string,
  keep: ReadonlySet<string>,
  macros: Macros = { commands: new Map(), environments: new Map(), theorems: new Map() },
): { text: string; macros: Macros } {
  let out = '';
  let from = 0;
  DEFINITION.lastIndex = 0;
  for (let m = DEFINITION.exec(text); m; m = DEFINITION.exec(text)) {
    if (isEscaped(text, m.index)) continue;
    const kind = m[0].replace(/\*$/, '').slice(1);
    const star = m[0].endsWith('*');
    const got = parseDefinition(text, m.index + m[0].length, kind, star, macros, keep);
    if (got === undefined) continue;
    out += text.slice(from, m.index);
    from = got;
    DEFINITION.lastIndex = got;
  }
  return { text: out + text.slice(from), macros };
}

/** Reads one definition starting at i (after the defining command); returns where it ends. */
function parseDefinition(
  s: string,
  i: number,
  kind: string,
  star: boolean,
  macros: Macros,
  keep: ReadonlySet<string>,
): number | undefined {
  const nameOf = (t: string) => t.trim().replace(/^\\/, '');
  const put = (name: string, m: Macro) => {
    if (name && !keep.has(name)) macros.commands.set(name, m);
  };
  if (kind === 'newtheorem') {
    const name = readGroup(s, i);
    if (!name) return undefined;
    let end = name.end;
    const shared = readOptional(s, end);
    if (shared) end = shared.end;
    const title = readGroup(s, end);
    if (!title) return undefined;
    end = title.end;
    const within = readOptional(s, end);
    if (within) end = within.end;
    const sharedWith = shared ? macros.theorems.get(shared.text.trim()) : undefined;
    macros.theorems.set(name.text.trim(), {
      title: title.text.trim(),
      counter: sharedWith?.counter ?? shared?.text.trim() ?? name.text.trim(),
      ...((sharedWith?.within ?? within?.text.trim())
        ? { within: sharedWith?.within ?? within!.text.trim() }
        : {}),
      numbered: !star,
    });
    return end;
  }
  if (kind.endsWith('newenvironment')) {
    const name = readGroup(s, i);
    if (!name) return undefined;
    const { args, optional, end: e } = readArgSpec(s, name.end);
    const begin = readGroup(s, e);
    const after = begin && readGroup(s, begin.end);
    if (!begin || !after) return undefined;
    macros.environments.set(name.text.trim(), {
      args,
      ...(optional !== undefined ? { optional } : {}),
      body: begin.text,
      after: after.text,
    });
    return after.end;
  }
  if (kind === 'let') {
    const a = readArg(s, i);
    let j = skipSpace(s, a.end);
    if (s[j] === '=') j++;
    const b = readArg(s, j);
    if (!a.text.startsWith('\\') || !b.text) return undefined;
    const target = macros.commands.get(nameOf(b.text));
    put(nameOf(a.text), target ?? { args: 0, body: b.text });
    return b.end;
  }
  if (kind.endsWith('def')) {
    const a = readArg(s, i);
    if (!a.text.startsWith('\\')) return undefined;
    const open = s.indexOf('{', a.end);
    if (open < 0) return undefined;
    const params = s.slice(a.end, open);
    const body = readGroup(s, open);
    if (!body) return undefined;
    // Only undelimited parameters (#1#2…) are simple; anything else is left undefined (but removed).
    if (/^\s*(#\d\s*)*$/.test(params))
      put(nameOf(a.text), { args: (params.match(/#\d/g) ?? []).length, body: body.text });
    return body.end;
  }
  if (kind === 'DeclareMathOperator') {
    const a = readArg(s, i);
    const b = readGroup(s, a.end);
    if (!b) return undefined;
    put(nameOf(a.text), { args: 0, body: `\\operatorname${star ? '*' : ''}{${b.text}}` });
    return b.end;
  }
  // \newcommand and friends: {\name} or \name, [n], [default], {body}.
  const a = readArg(s, i);
  if (!a.text.trim().startsWith('\\')) return undefined;
  const { args, optional, end } = readArgSpec(s, a.end);
  const body = readGroup(s, end);
  if (!body) return undefined;
  const name = nameOf(a.text);
  if (!(kind === 'providecommand' && macros.commands.has(name)))
    put(name, { args, ...(optional !== undefined ? { optional } : {}), body: body.text });
  return body.end;
}

function readArgSpec(s: string, i: number): { args: number; optional?: string; end: number } {
  let end = i;
  let args = 0;
  let optional: string | undefined;
  const n = readOptional(s, end);
  if (n && /^\s*\d\s*$/.test(n.text)) {
    args = Number(n.text);
    end = n.end;
    const d = readOptional(s, end);
    if (d) {
      optional = d.text;
      end = d.end;
    }
  }
  return { args, ...(optional !== undefined ? { optional } : {}), end };
}

function substitute(body: string, args: string[]): string {
  return body.replace(/##|#(\d)/g, (_all, d: string | undefined) => (d ? (args[Number(d) - 1] ?? '') : '#'));
}

/**
 * Macros expanded, innermost last: each expansion is expanded again up to a depth, and the output
 * may grow to a bound, so a recursive definition ends instead of hanging.
 */
export function expandMacros(text: string, macros: Macros): string {
  if (!macros.commands.size && !macros.environments.size) return text;
  const budget = { chars: Math.max(1_000_000, text.length * 20) };
  return expand(text, macros, 0, budget);
}

function expand(s: string, macros: Macros, depth: number, budget: { chars: number }): string {
  let out = '';
  let from = 0;
  let i = s.indexOf('\\');
  while (i >= 0 && i < s.length) {
    const c = readControl(s, i);
    let replacement: string | undefined;
    let end = c.end;
    const macro = c.star ? undefined : macros.commands.get(c.name);
    if (macro && depth < 32 && budget.chars > 0) {
      const args: string[] = [];
      for (let k = 0; k < macro.args; k++) {
        if (k === 0 && macro.optional !== undefined) {
          const o = readOptional(s, end);
          args.push(o ? o.text : macro.optional);
          if (o) end = o.end;
          continue;
        }
        const a = readArg(s, end);
        args.push(a.text);
        end = a.end;
      }
      replacement = substitute(macro.body, args);
    } else if (c.star && macros.commands.has(`${c.name}`) && depth < 32 && budget.chars > 0) {
      // `\foo*` where \foo is a macro: the star is ordinary text after it.
      end = c.end - 1;
      const m = macros.commands.get(c.name)!;
      if (m.args === 0) replacement = m.body;
    } else if ((c.name === 'begin' || c.name === 'end') && macros.environments.size) {
      const g = readGroup(s, c.end);
      const env = g && macros.environments.get(g.text.trim());
      if (g && env && depth < 32 && budget.chars > 0) {
        end = g.end;
        if (c.name === 'end') replacement = env.after;
        else {
          const args: string[] = [];
          for (let k = 0; k < env.args; k++) {
            if (k === 0 && env.optional !== undefined) {
              const o = readOptional(s, end);
              args.push(o ? o.text : env.optional);
              if (o) end = o.end;
              continue;
            }
            const a = readArg(s, end);
            args.push(a.text);
            end = a.end;
          }
          replacement = substitute(env.body, args);
        }
      }
    }
    if (replacement !== undefined) {
      budget.chars -= replacement.length;
      out += s.slice(from, i) + expand(replacement, macros, depth + 1, budget);
      // A control word's body followed by a letter must not merge into a longer name.
      if (/\\[a-zA-Z@]+$/.test(replacement) && isLetter(s[end])) out += ' ';
      from = end;
      i = s.indexOf('\\', end);
    } else {
      i = s.indexOf('\\', c.end);
    }
  }
  return out + s.slice(from);
}

/**
 * `\usepackage{name}` of a package that ships with the source (`name.sty`) replaced by its text, so
 * that the macros it defines are expanded like the paper's own.
 */
export function includeLocalPackages(preamble: string, read: ReadFile, dir = ''): string {
  return preamble.replace(
    /\\(?:usepackage|RequirePackage)\s*(?:\[[^\]]*\])?\s*\{([^}]*)\}/g,
    (all, names: string) => {
      const found = names
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean)
        .map((n) => {
          const p = normalizePath(`${dir}${n}.sty`);
          return p === undefined ? undefined : read(p);
        })
        .filter((t): t is string => t !== undefined);
      return found.length ? found.map((t) => stripComments(t)).join('\n') : all;
    },
  );
}
