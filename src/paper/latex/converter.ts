/**
 * The converter's core: LaTeX text walked into Markdown (commands, math, groups, TeX's ligatures),
 * finished into paragraphs with blocks (headings, tables, display math, …) kept whole.
 */
import { Call, commandText } from './commands';
import type { Theorem } from './macros';
import { dollarMath } from './math';
import { Numbering } from './numbering';
import { matchBrace, readControl } from './scan';
import { SWITCHES, wrap } from './vocabulary';

/** Where the text being converted stands. */
export interface Ctx {
  inline?: boolean;
  cell?: boolean;
  float?: 'Figure' | 'Table' | 'Algorithm';
  /** Inside a subfigure: its caption is lettered. */
  sub?: { count?: number };
  /** The float's count of subfigures, shared by them. */
  subs?: { count?: number };
}

export class Converter {
  readonly blocks: string[] = [];
  readonly numbering: Numbering;
  abstract = '';

  constructor(
    chapters: boolean,
    /** `\newtheorem`s of the paper. */
    readonly theorems: Map<string, Theorem>,
    /** `\numberwithin{equation}{section}`: equations numbered 2.1, 2.2, … */
    equationsWithin?: 'section' | 'chapter',
  ) {
    this.numbering = new Numbering(chapters, equationsWithin);
  }

  /** A block: its own paragraph in the output, kept whole by the whitespace pass. */
  block(md: string): string {
    if (!md.trim()) return '';
    this.blocks.push(md);
    return `\n\n\u0000${this.blocks.length - 1}\u0000\n\n`;
  }

  /** Converted text as finished Markdown (paragraphs, blocks in place). */
  render(s: string, ctx: Ctx = {}): string {
    return this.finish(this.convert(s, ctx));
  }

  /** Converted text on one line (captions, cells, titles). */
  inline(s: string, ctx: Ctx = {}): string {
    return this.render(s, { ...ctx, inline: true })
      .replace(/\s*\n\s*/g, ' ')
      .trim();
  }

  /** Paragraphs with their spaces collapsed, blocks put back whole. */
  private finish(raw: string): string {
    const paras = raw
      .split(/\n[ \t]*\n\s*/)
      .map((p) =>
        p
          .replace(/\s+/g, ' ')
          .replace(/ ?\u0002 ?/g, '\n')
          .trim(),
      )
      .filter(Boolean)
      .map((p) => {
        const b = /^\u0000(\d+)\u0000$/.exec(p);
        if (b) return this.blocks[Number(b[1])]!;
        // Text that only looks like Markdown structure (`\# of runs`, `1. place`) stays text.
        const text = p
          .replace(/^(#{1,6}(?=\s|$)|>|[-+*](?=\s))/gm, '\\$1')
          .replace(/^(\d+)([.)]\s)/gm, '$1\\$2')
          .replace(/\u0004/g, '');
        return text.replace(/\u0000(\d+)\u0000/g, (_, n) => this.blocks[Number(n)]!);
      });
    return paras.join('\n\n');
  }

  convert(s: string, ctx: Ctx): string {
    let out = '';
    let i = 0;
    const special = /[\\$&{}~`'-]/g;
    while (i < s.length) {
      special.lastIndex = i;
      const m = special.exec(s);
      if (!m) {
        out += s.slice(i);
        break;
      }
      out += s.slice(i, m.index);
      i = m.index;
      const c = s[i]!;
      if (c === '\\') {
        const r = this.command(s, i, ctx);
        out += r.text;
        i = r.end;
      } else if (c === '$') {
        const r = dollarMath(this, s, i);
        out += r.text;
        i = r.end;
      } else if (c === '{') {
        const close = matchBrace(s, i);
        out += this.group(s.slice(i + 1, close), ctx);
        i = close + 1;
      } else if (c === '}') i++;
      else if (c === '~') {
        out += ' ';
        i++;
      } else if (c === '&') {
        out += ' ';
        i++;
      } else if (c === '-') {
        const n = s.startsWith('---', i) ? 3 : s.startsWith('--', i) ? 2 : 1;
        out += n === 3 ? '—' : n === 2 ? '–' : '-';
        i += n;
      } else if (c === '`') {
        const two = s[i + 1] === '`';
        out += two ? '“' : '‘';
        i += two ? 2 : 1;
      } else if (c === "'") {
        const two = s[i + 1] === "'";
        out += two ? '”' : '’';
        i += two ? 2 : 1;
      } else {
        out += c;
        i++;
      }
    }
    return out;
  }

  /** `{…}`: a font switch at its start (`{\bf x}`) styles the rest of the group. */
  private group(inner: string, ctx: Ctx): string {
    const sw = /^\s*\\([a-zA-Z]+)(?![a-zA-Z])/.exec(inner);
    const style = sw ? SWITCHES[sw[1]!] : undefined;
    if (sw && style !== undefined) return wrap(style, this.convert(inner.slice(sw[0].length), ctx));
    return this.convert(inner, ctx);
  }

  /** A command at i: its Markdown and where it ends. */
  private command(s: string, i: number, ctx: Ctx): { text: string; end: number } {
    const c = readControl(s, i);
    const call = new Call(s, c.name, c.star, c.end);
    const text = commandText(this, call, ctx);
    return { text, end: call.end };
  }

  /** A caption: numbered in a float (`**Figure 2:** …`), lettered in a subfigure. */
  caption(text: string, star: boolean, ctx: Ctx, kind?: string): string {
    if (ctx.sub) {
      ctx.sub.count = (ctx.sub.count ?? 0) + 1;
      const t = this.inline(text, ctx);
      return this.block(`*(${String.fromCharCode(96 + ctx.sub.count)}) ${t}*`);
    }
    const k = kind ?? ctx.float;
    if (!k || !this.numbering.isFloat(k) || star) return this.block(this.inline(text, ctx));
    // Before the text: a \label inside the caption names this float.
    const n = this.numbering.float(k);
    return this.block(`**${k} ${n}:** ${this.inline(text, ctx)}`);
  }
}
