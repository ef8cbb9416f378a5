/**
 * The paper's own definitions (`\newcommand`, `\def`, `\let`, `\newenvironment`, `\newtheorem`, …)
 * read and expanded, so that the converter sees the commands LaTeX defines for itself.
 */
import { isEscaped, isLetter, readArg, readControl, readGroup, readOptional, skipSpace } from './scan';

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
  const put = (name: string, m: Macro) => {
    if (name && !keep.has(name)) macros.commands.set(name, m);
  };
  if (kind === 'newtheorem') return readTheorem(s, i, star, macros.theorems);
  if (kind.endsWith('newenvironment')) return readEnvironment(s, i, macros.environments);
  if (kind === 'let') return readLet(s, i, macros.commands, put);
  if (kind.endsWith('def')) return readDef(s, i, put);
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

const nameOf = (t: string) => t.trim().replace(/^\\/, '');

/** `\newtheorem{name}[shared]{Title}[within]`. */
function readTheorem(s: string, i: number, star: boolean, theorems: Macros['theorems']): number | undefined {
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
  const sharedWith = shared ? theorems.get(shared.text.trim()) : undefined;
  theorems.set(name.text.trim(), {
    title: title.text.trim(),
    counter: sharedWith?.counter ?? shared?.text.trim() ?? name.text.trim(),
    ...((sharedWith?.within ?? within?.text.trim())
      ? { within: sharedWith?.within ?? within!.text.trim() }
      : {}),
    numbered: !star,
  });
  return end;
}

/** `\newenvironment{name}[n][default]{begin}{end}`. */
function readEnvironment(s: string, i: number, environments: Macros['environments']): number | undefined {
  const name = readGroup(s, i);
  if (!name) return undefined;
  const { args, optional, end: e } = readArgSpec(s, name.end);
  const begin = readGroup(s, e);
  const after = begin && readGroup(s, begin.end);
  if (!begin || !after) return undefined;
  environments.set(name.text.trim(), {
    args,
    ...(optional !== undefined ? { optional } : {}),
    body: begin.text,
    after: after.text,
  });
  return after.end;
}

/** `\let\a\b` (or `\let\a=\b`): \a means what \b means now. */
function readLet(
  s: string,
  i: number,
  commands: Macros['commands'],
  put: (name: string, m: Macro) => void,
): number | undefined {
  const a = readArg(s, i);
  let j = skipSpace(s, a.end);
  if (s[j] === '=') j++;
  const b = readArg(s, j);
  if (!a.text.startsWith('\\') || !b.text) return undefined;
  const target = commands.get(nameOf(b.text));
  put(nameOf(a.text), target ?? { args: 0, body: b.text });
  return b.end;
}

/** `\def\name#1#2{body}`; a delimited parameter text is removed but not defined. */
function readDef(s: string, i: number, put: (name: string, m: Macro) => void): number | undefined {
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

/** The arguments of a macro's (or an environment's) use at i: its optional first one takes its default when absent. */
function readCall(s: string, i: number, macro: Macro): { args: string[]; end: number } {
  const args: string[] = [];
  let end = i;
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
  return { args, end };
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
      const call = readCall(s, end, macro);
      end = call.end;
      replacement = substitute(macro.body, call.args);
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
          const call = readCall(s, end, env);
          end = call.end;
          replacement = substitute(env.body, call.args);
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
