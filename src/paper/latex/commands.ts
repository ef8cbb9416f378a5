/** LaTeX commands → Markdown: the meaning of a command looked up by its name, and the commands with rules of their own. */
import type { Converter, Ctx } from './converter';
import { environment, environmentBody } from './environments';
import { cleanInlineMath, mathUntil } from './math';
import { readArg, readGroup, readOptional } from './scan';
import {
  ACCENTS,
  accent,
  CITE,
  capitalize,
  DROP,
  REF,
  SECTIONS,
  SILENT,
  STYLE,
  SYMBOLS,
  wrap,
} from './vocabulary';

/** A command being read: its name, and its arguments read one at a time from where the name ends. */
export class Call {
  constructor(
    readonly s: string,
    readonly name: string,
    readonly star: boolean,
    /** Just after what has been read. */
    public end: number,
  ) {}

  /** The next mandatory argument. */
  arg(): string {
    const a = readArg(this.s, this.end);
    this.end = a.end;
    return a.text;
  }

  /** The next `[…]`, if there is one. */
  opt(): string | undefined {
    const o = readOptional(this.s, this.end);
    if (o) this.end = o.end;
    return o?.text;
  }
}

/** A command's Markdown; `call.end` is left just after what the command takes. */
export function commandText(conv: Converter, call: Call, ctx: Ctx): string {
  const { name } = call;
  if (!/^[a-zA-Z@]/.test(name)) return controlSymbol(conv, call, ctx);
  if (Object.hasOwn(SECTIONS, name)) return heading(conv, call, ctx);
  if (CITE.has(name)) {
    call.opt();
    call.opt();
    call.arg();
    return '[cite]';
  }
  if (REF.has(name)) {
    const keys = call.arg();
    return `\u0001${name}:${keys}\u0001`;
  }
  if (name === 'label') {
    conv.numbering.label(call.arg().trim());
    return '';
  }
  if (Object.hasOwn(STYLE, name)) {
    if (name === 'makebox' || name === 'framebox') {
      call.opt();
      call.opt();
    }
    return wrap(STYLE[name]!, conv.convert(call.arg(), ctx));
  }
  if (Object.hasOwn(SYMBOLS, name)) return SYMBOLS[name]!;
  if (Object.hasOwn(ACCENTS, name)) return accent(ACCENTS[name]!, call.arg());
  if (SILENT.has(name)) return '';
  if (Object.hasOwn(COMMANDS, name)) return COMMANDS[name]!(conv, call, ctx);
  const drop = DROP[name];
  if (drop) {
    for (let k = 0; k < drop[0]; k++) call.opt();
    for (let k = 0; k < drop[1]; k++) call.arg();
    return '';
  }
  // Unknown: the name goes, an adjacent [option] goes, the arguments stay as text.
  const o = readOptional(call.s, call.end, false);
  if (o) call.end = o.end;
  return '';
}

/** `\\`, `\(`, `\[`, `\'e`, `\$`, `\%`, `\,`, … */
function controlSymbol(conv: Converter, call: Call, ctx: Ctx): string {
  const { name } = call;
  if (name === '\\') {
    call.opt();
    if (call.s[call.end] === '*') call.end++;
    return ctx.cell || ctx.inline ? ' ' : '\u0002';
  }
  if (name === '(' || name === '[') {
    const r = mathUntil(conv, call.s, call.end, name === '(' ? '\\)' : '\\]', name === '[');
    call.end = r.end;
    return r.text;
  }
  if (ACCENTS[name]) return accent(ACCENTS[name]!, call.arg());
  if (name === '$') return '\\$';
  if (name === '_') return '_';
  if ('%&#{}'.includes(name)) return name;
  if (name === ' ' || name === '\n' || name === ',' || name === ';' || name === ':') return ' ';
  return ''; // \- \/ \@ \! \) \]
}

/** `\section[short]{Title}` and its kin: a numbered heading block; `\paragraph` a bold run-in title. */
function heading(conv: Converter, call: Call, ctx: Ctx): string {
  const { name } = call;
  call.opt();
  const title = call.arg();
  let level = SECTIONS[name]!;
  if (!conv.numbering.chapters && level >= 2) level -= 1;
  if (level === 0) level = 1;
  if (name === 'paragraph' || name === 'subparagraph') {
    const t = conv.inline(title, ctx);
    return t ? `\n\n**${t}** ` : '';
  }
  const num = conv.numbering.heading(name, call.star);
  const text = conv.inline(title, ctx);
  const hashes = '#'.repeat(Math.min(6, level + 1));
  return conv.block(`${hashes} ${num ? `${num} ` : ''}${text || 'Untitled'}`);
}

type Handler = (conv: Converter, call: Call, ctx: Ctx) => string;

/**
 * The last argument as text, the ones before it (sizes, colours, spans) read and dropped: `skip`
 * has a `[` for each optional one and a `{` for each mandatory one, in order.
 */
const lastArgAfter =
  (skip: string): Handler =>
  (conv, call, ctx) => {
    for (const k of skip) {
      if (k === '[') call.opt();
      else call.arg();
    }
    return conv.convert(call.arg(), ctx);
  };

const footnote: Handler = (conv, call, ctx) => {
  call.opt();
  const t = conv.inline(call.arg(), ctx);
  return t ? ` (Footnote: ${t})` : '';
};

const url: Handler = (_conv, call) => `<${call.arg().trim()}>`;

const caption: Handler = (conv, call, ctx) => {
  const kind = call.name === 'captionof' ? capitalize(call.arg().trim()) : undefined;
  call.opt();
  return conv.caption(call.arg(), call.star, ctx, kind);
};

/** A dimension without braces (`\vskip 2pt plus 1pt`), read where it stands. */
const skipDimension: Handler = (_conv, call) => {
  const d = /\s*=?\s*-?[\d.]+\s*[a-z]{2}(?:\s*(?:plus|minus)\s*-?[\d.]+\s*[a-z]{2})*/y;
  d.lastIndex = call.end;
  if (d.exec(call.s)) call.end = d.lastIndex;
  return '';
};

const COMMANDS: Record<string, Handler> = {
  begin: (conv, call, ctx) => {
    const g = readGroup(call.s, call.end);
    if (!g) return '';
    const r = environment(conv, g.text.trim(), call.s, g.end, ctx);
    call.end = r.end;
    return r.text;
  },
  // A stray \end (its \begin was in a macro or another file): nothing to print.
  end: (_conv, call) => {
    const g = readGroup(call.s, call.end);
    if (g) call.end = g.end;
    return '';
  },
  appendix: (conv) => {
    conv.numbering.startAppendix();
    return '';
  },
  footnote,
  footnotetext: footnote,
  url,
  nolinkurl: url,
  href: (conv, call, ctx) => {
    const u = call.arg().trim();
    const t = conv.inline(call.arg(), ctx);
    return t ? `[${t}](${u})` : `<${u}>`;
  },
  verb: (_conv, call) => {
    const { s, end } = call;
    const d = s[end];
    if (!d) return '';
    const close = s.indexOf(d, end + 1);
    const stop = close < 0 ? s.length : close;
    call.end = stop + 1;
    return `\`${s.slice(end + 1, stop)}\``;
  },
  ensuremath: (_conv, call) => `$${cleanInlineMath(call.arg())}$`,
  caption,
  captionof: caption,
  subcaption: (conv, call, ctx) => {
    const sub = { ...ctx, sub: ctx.sub ?? ctx.subs ?? {} };
    call.opt();
    return conv.caption(call.arg(), false, sub);
  },
  subfloat: (conv, call, ctx) => {
    const sub = { ...ctx, sub: ctx.sub ?? ctx.subs ?? {} };
    const t = call.opt();
    const body = conv.convert(call.arg(), ctx);
    return body + (t ? conv.caption(t, false, sub) : '');
  },
  // An \item outside a list (its list came from a macro): a bullet.
  item: (conv, call, ctx) => {
    const label = call.opt();
    return `\n\n\u0004- ${label ? `**${conv.inline(label, ctx)}** ` : ''}`;
  },
  // \abstract{…} (some classes) is the abstract environment.
  abstract: (conv, call, ctx) => environmentBody(conv, 'abstract', call.arg(), ctx),
  vskip: skipDimension,
  hskip: skipDimension,
  kern: skipDimension,
  textcolor: lastArgAfter('[{'),
  colorbox: lastArgAfter('[{'),
  multicolumn: lastArgAfter('{{'),
  multirow: lastArgAfter('[{[{['),
  resizebox: lastArgAfter('{{['),
  scalebox: lastArgAfter('{['),
  raisebox: lastArgAfter('{['),
  adjustbox: lastArgAfter('{['),
  parbox: lastArgAfter('[[[{'),
  operatorname: lastArgAfter(''),
  // {TeX}{plain}: the TeX form, as the paper shows it.
  texorpdfstring: (conv, call, ctx) => {
    const tex = call.arg();
    call.arg();
    return conv.convert(tex, ctx);
  },
};
