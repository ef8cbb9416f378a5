/**
 * LaTeX source → the Markdown the PDF path produces (`# Title`, `*authors*`, `## Abstract`, numbered
 * `## 1 Introduction` headings, `**Figure 1:**` captions, pipe tables), with equations kept as
 * written in `$…$` and `$$…$$`. Not a TeX engine: common commands are read, unknown commands drop
 * their name and keep their arguments as text, unknown environments pass their content through,
 * and nothing throws on odd input.
 */

import type { PdfMarkdown } from '../pdf/markdown';
import {
  collectMacros,
  expandMacros,
  includeLocalPackages,
  matchBrace,
  type ReadFile,
  readArg,
  readControl,
  readGroup,
  readOptional,
  resolveInputs,
  skipSpace,
  stripComments,
  type Theorem,
} from './scan';

export interface LatexMarkdown extends PdfMarkdown {
  /** What could not be read (missing \input files, …), for the log. */
  warnings: string[];
}

const SECTIONS: Record<string, number> = {
  part: 0,
  chapter: 1,
  section: 2,
  subsection: 3,
  subsubsection: 4,
  paragraph: 5,
  subparagraph: 6,
};

const CITE = new Set([
  'cite',
  'citep',
  'citet',
  'citealp',
  'citealt',
  'citeauthor',
  'citeyear',
  'citeyearpar',
  'parencite',
  'textcite',
  'autocite',
  'footcite',
  'citenum',
  'Cite',
  'Citep',
  'Citet',
  'smartcite',
  'fullcite',
]);
const REF = new Set([
  'ref',
  'autoref',
  'Autoref',
  'cref',
  'Cref',
  'eqref',
  'nameref',
  'vref',
  'labelcref',
  'subref',
]);
const STYLE: Record<string, '**' | '*' | '`' | ''> = {
  textbf: '**',
  textit: '*',
  emph: '*',
  textsl: '*',
  texttt: '`',
  underline: '',
  uline: '',
  textsc: '',
  textrm: '',
  textsf: '',
  textnormal: '',
  textup: '',
  textmd: '',
  mbox: '',
  makebox: '',
  fbox: '',
  framebox: '',
  text: '',
  hbox: '',
  textsuperscript: '',
  textsubscript: '',
  mathrm: '',
  mathbf: '**',
  mathit: '*',
  hl: '',
  ul: '',
  sout: '',
  makecell: '',
  shortstack: '',
  centerline: '',
  textls: '',
  uppercase: '',
  MakeUppercase: '',
  lowercase: '',
  NoCaseChange: '',
};
const SWITCHES: Record<string, '**' | '*' | '`' | ''> = {
  bf: '**',
  bfseries: '**',
  it: '*',
  itshape: '*',
  em: '*',
  sl: '*',
  slshape: '*',
  tt: '`',
  ttfamily: '`',
};
const SYMBOLS: Record<string, string> = {
  ldots: '…',
  dots: '…',
  textellipsis: '…',
  cdots: '⋯',
  textendash: '–',
  textemdash: '—',
  LaTeX: 'LaTeX',
  LaTeXe: 'LaTeX2e',
  TeX: 'TeX',
  BibTeX: 'BibTeX',
  S: '§',
  P: '¶',
  dag: '†',
  ddag: '‡',
  textdagger: '†',
  textdaggerdbl: '‡',
  copyright: '©',
  textcopyright: '©',
  textregistered: '®',
  texttrademark: '™',
  textbullet: '•',
  textdegree: '°',
  textasciitilde: '~',
  textasciicircum: '^',
  textbackslash: '\\',
  textless: '<',
  textgreater: '>',
  textbar: '|',
  textquotedbl: '"',
  textquoteleft: '‘',
  textquoteright: '’',
  textquotedblleft: '“',
  textquotedblright: '”',
  textpm: '±',
  texttimes: '×',
  textmu: 'µ',
  checkmark: '✓',
  cmark: '✓',
  xmark: '✗',
  ss: 'ß',
  i: 'ı',
  j: 'ȷ',
  o: 'ø',
  O: 'Ø',
  ae: 'æ',
  AE: 'Æ',
  oe: 'œ',
  OE: 'Œ',
  aa: 'å',
  AA: 'Å',
  l: 'ł',
  L: 'Ł',
  and: ', ',
  KwTo: ' to ',
  quad: ' ',
  qquad: ' ',
  enspace: ' ',
  thinspace: ' ',
  space: ' ',
  newline: '\u0002',
  linebreak: '\u0002',
  par: '\n\n',
};
const ACCENTS: Record<string, string> = {
  "'": '\u0301',
  '`': '\u0300',
  '^': '\u0302',
  '"': '\u0308',
  '~': '\u0303',
  '=': '\u0304',
  '.': '\u0307',
  c: '\u0327',
  v: '\u030c',
  u: '\u0306',
  H: '\u030b',
  r: '\u030a',
  k: '\u0328',
  d: '\u0323',
  b: '\u0331',
};
/** Commands dropped with their arguments: [optional args before, mandatory args]. */
const DROP: Record<string, [number, number]> = {
  vspace: [0, 1],
  hspace: [0, 1],
  setlength: [0, 2],
  addtolength: [0, 2],
  setcounter: [0, 2],
  addtocounter: [0, 2],
  stepcounter: [0, 1],
  refstepcounter: [0, 1],
  includegraphics: [1, 1],
  includesvg: [1, 1],
  includepdf: [1, 1],
  bibliographystyle: [0, 1],
  bibliography: [0, 1],
  nobibliography: [0, 1],
  addbibresource: [1, 1],
  printbibliography: [1, 0],
  pagestyle: [0, 1],
  thispagestyle: [0, 1],
  pagenumbering: [0, 1],
  usepackage: [1, 1],
  RequirePackage: [1, 1],
  documentclass: [1, 1],
  theoremstyle: [0, 1],
  captionsetup: [1, 1],
  graphicspath: [0, 1],
  definecolor: [0, 3],
  hypersetup: [0, 1],
  color: [1, 1],
  fontsize: [0, 2],
  title: [1, 1],
  author: [1, 1],
  date: [0, 1],
  thanks: [0, 1],
  affiliation: [1, 1],
  affil: [1, 1],
  institute: [0, 1],
  email: [0, 1],
  address: [1, 1],
  inst: [0, 1],
  keywords: [0, 1],
  icmltitle: [0, 1],
  icmltitlerunning: [0, 1],
  icmlauthor: [0, 2],
  icmlaffiliation: [0, 2],
  icmlcorrespondingauthor: [0, 2],
  icmlkeywords: [0, 1],
  icmlsetsymbol: [0, 2],
  icmlEqualContribution: [0, 0],
  printAffiliationsAndNotice: [0, 1],
  twocolumn: [1, 0],
  crefname: [0, 3],
  Crefname: [0, 3],
  newcounter: [0, 1],
  phantom: [0, 1],
  vphantom: [0, 1],
  hphantom: [0, 1],
  index: [0, 1],
  glossary: [0, 1],
  addcontentsline: [0, 3],
  pdfbookmark: [1, 2],
  nocite: [0, 1],
  pageref: [0, 1],
  footnotemark: [1, 0],
  label: [0, 1],
  IEEEauthorblockA: [0, 1],
  IEEEoverridecommandlockouts: [0, 0],
  runningtitle: [0, 1],
  runningauthor: [0, 1],
  shorttitle: [0, 1],
  shortauthors: [0, 1],
  markboth: [0, 2],
  markright: [0, 1],
  newlength: [0, 1],
  rowcolor: [1, 1],
  cellcolor: [1, 1],
  columncolor: [1, 1],
  arrayrulecolor: [1, 1],
  specialrule: [0, 3],
  cline: [0, 1],
  cmidrule: [0, 1],
  urlstyle: [0, 1],
  renewcommand: [0, 2],
  newcommand: [0, 2],
  begingroup: [0, 0],
  endgroup: [0, 0],
};
/** Commands that make no text. */
const SILENT = new Set(
  (
    'maketitle tableofcontents listoffigures listoftables newpage clearpage cleardoublepage centering ' +
    'raggedright raggedleft noindent indent nolinebreak pagebreak nopagebreak smallskip medskip bigskip ' +
    'vfill hfill hfil vfil null relax protect hline toprule midrule bottomrule addlinespace small ' +
    'footnotesize scriptsize tiny large Large LARGE huge Huge normalsize normalfont rm sf sc upshape ' +
    'mdseries scshape sffamily rmfamily selectfont makeatletter makeatother balance FloatBarrier xspace ' +
    'endhead endfirsthead endfoot endlastfoot frenchspacing sloppy fussy onecolumn strut displaystyle ' +
    'textstyle allowdisplaybreaks today ignorespaces unskip hss nobreak appendixpage bf it em sl tt ' +
    'bfseries itshape slshape ttfamily tabularnewline hdashline firsthline lasthline global ' +
    'IEEEpeerreviewmaketitle'
  ).split(' '),
);
const MATH_ENVS = new Set(['equation', 'displaymath', 'math', 'dmath', 'dgroup']);
/** Kept as written inside `$$`: renderers (KaTeX, MathJax) understand them. */
const ALIGN_ENVS = new Set(['align', 'flalign', 'alignat', 'gather', 'multline', 'eqnarray', 'xalignat']);
const LISTS = new Set([
  'itemize',
  'enumerate',
  'description',
  'compactitem',
  'compactenum',
  'inparaenum',
  'asparaenum',
  'asparaitem',
  'enumerate*',
  'itemize*',
]);
const TABULARS: Record<string, number> = {
  tabular: 1,
  'tabular*': 2,
  tabularx: 2,
  tabulary: 2,
  longtable: 1,
  'longtable*': 1,
  tabu: 1,
  supertabular: 1,
  NiceTabular: 1,
  xtabular: 1,
  array: 1,
};
const FLOATS: Record<string, 'Figure' | 'Table' | 'Algorithm'> = {
  figure: 'Figure',
  wrapfigure: 'Figure',
  SCfigure: 'Figure',
  sidewaysfigure: 'Figure',
  'figure*': 'Figure',
  table: 'Table',
  'table*': 'Table',
  wraptable: 'Table',
  sidewaystable: 'Table',
  algorithm: 'Algorithm',
  'algorithm*': 'Algorithm',
};
const SUBFLOATS = new Set(['subfigure', 'subtable', 'subfloat']);
/** Environment arguments to skip: [optional, mandatory]. */
const ENV_ARGS: Record<string, [number, number]> = {
  minipage: [1, 1],
  subfigure: [1, 1],
  subtable: [1, 1],
  wrapfigure: [2, 2],
  wraptable: [2, 2],
  multicols: [0, 1],
  'multicols*': [0, 1],
  adjustbox: [0, 1],
  threeparttable: [1, 0],
  tcolorbox: [1, 0],
  mdframed: [1, 0],
  algorithmic: [1, 0],
  SCfigure: [2, 0],
  figure: [1, 0],
  'figure*': [1, 0],
  table: [1, 0],
  'table*': [1, 0],
  algorithm: [1, 0],
  'algorithm*': [1, 0],
  list: [0, 2],
};
const DROP_ENVS = new Set([
  'tikzpicture',
  'pgfpicture',
  'axis',
  'filecontents',
  'filecontents*',
  'picture',
  'comment',
  'tikzcd',
]);
const VERBATIM = new Set([
  'verbatim',
  'verbatim*',
  'Verbatim',
  'lstlisting',
  'minted',
  'alltt',
  'lstinline',
  'BVerbatim',
  'code',
]);
const THEOREMS: Record<string, string> = {
  theorem: 'Theorem',
  lemma: 'Lemma',
  proposition: 'Proposition',
  corollary: 'Corollary',
  definition: 'Definition',
  remark: 'Remark',
  example: 'Example',
  assumption: 'Assumption',
  conjecture: 'Conjecture',
  claim: 'Claim',
  fact: 'Fact',
  observation: 'Observation',
  hypothesis: 'Hypothesis',
  problem: 'Problem',
};
/** What makes an algorithm float algorithm2e's (not algorithmic's). */
const ALGORITHM2E =
  /\\(;|KwIn|KwOut|KwData|KwResult|KwRet|SetAlgoLined|DontPrintSemicolon|eIf|uIf|lIf|ForEach)(?![a-zA-Z])|\\(While|For|If)\s*\{[^}]*\}\s*\{/;
const ACKS = new Set(['ack', 'acks', 'acknowledgments', 'acknowledgements']);

/** Commands and environments this module handles itself: a \renewcommand in a style must not hide them. */
export const HANDLED: ReadonlySet<string> = new Set([
  ...Object.keys(SECTIONS),
  ...CITE,
  ...REF,
  'label',
  'caption',
  'captionof',
  'item',
  'begin',
  'end',
  'footnote',
  'url',
  'href',
  'input',
  'include',
  'appendix',
  'title',
  'author',
  'maketitle',
  'bibliography',
  'textbf',
  'textit',
  'emph',
  'texttt',
  'thanks',
  'abstract',
  'and',
  // Environments (\renewenvironment{proof}… in a class must not hide them either).
  ...MATH_ENVS,
  ...ALIGN_ENVS,
  ...LISTS,
  ...Object.keys(TABULARS),
  ...Object.keys(FLOATS),
  ...Object.keys(THEOREMS),
  'proof',
  'thebibliography',
]);

interface Target {
  kind: string;
  num: string;
}

class Converter {
  readonly blocks: string[] = [];
  readonly labels = new Map<string, Target>();
  private counters = { part: 0, chapter: 0, section: 0, subsection: 0, subsubsection: 0 };
  private floats = { Figure: 0, Table: 0, Algorithm: 0 };
  private equation = 0;
  /** Per counter: the count, and the section it counts within (a new section starts it again). */
  private theoremCount = new Map<string, { n: number; at: string }>();
  private appendix = false;
  private target: Target | undefined;
  abstract = '';

  constructor(
    private readonly chapters: boolean,
    private readonly theorems: Map<string, Theorem>,
    /** `\numberwithin{equation}{section}`: equations numbered 2.1, 2.2, … */
    private readonly equationsWithin?: 'section' | 'chapter',
  ) {}

  /** The current top-level number (section, or chapter in a report), as printed. */
  private sectionNumber(): string {
    const top = this.chapters ? this.counters.chapter : this.counters.section;
    return this.appendix ? letter(top) : String(top);
  }

  private nextEquation(): string {
    const n = ++this.equation;
    if (!this.equationsWithin) return String(n);
    const top = this.chapters ? this.counters.chapter : this.counters.section;
    const within =
      this.equationsWithin === 'section' && this.chapters ? `${top}.${this.counters.section}` : String(top);
    return `${this.appendix ? letter(top) + within.slice(String(top).length) : within}.${n}`;
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

  finish(raw: string): string {
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
        const r = this.dollarMath(s, i, ctx);
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

  private command(s: string, i: number, ctx: Ctx): { text: string; end: number } {
    const c = readControl(s, i);
    const { name, star } = c;
    let end = c.end;
    const arg = () => {
      const a = readArg(s, end);
      end = a.end;
      return a.text;
    };
    const opt = () => {
      const o = readOptional(s, end);
      if (o) end = o.end;
      return o?.text;
    };
    // Control symbols.
    if (!/^[a-zA-Z@]/.test(name)) {
      if (name === '\\') {
        opt();
        if (s[end] === '*') end++;
        return { text: ctx.cell || ctx.inline ? ' ' : '\u0002', end };
      }
      if (name === '(') return this.mathUntil(s, end, '\\)', false, ctx);
      if (name === '[') return this.mathUntil(s, end, '\\]', true, ctx);
      if (ACCENTS[name]) return { text: accent(ACCENTS[name]!, arg()), end };
      if (name === '$') return { text: '\\$', end };
      if (name === '_') return { text: '_', end };
      if ('%&#{}'.includes(name)) return { text: name, end };
      if (name === ' ' || name === '\n' || name === ',' || name === ';' || name === ':')
        return { text: ' ', end };
      return { text: '', end }; // \- \/ \@ \! \) \]
    }
    if (Object.hasOwn(SECTIONS, name))
      return { text: this.heading(name, star, s, end, ctx), end: this.headingEnd(s, end) };
    if (CITE.has(name)) {
      opt();
      opt();
      arg();
      return { text: '[cite]', end };
    }
    if (REF.has(name)) {
      const keys = arg();
      return { text: `\u0001${name}:${keys}\u0001`, end };
    }
    if (name === 'label') {
      const key = arg().trim();
      if (this.target) this.labels.set(key, this.target);
      return { text: '', end };
    }
    if (Object.hasOwn(STYLE, name)) {
      if (name === 'makebox' || name === 'framebox') {
        opt();
        opt();
      }
      return { text: wrap(STYLE[name]!, this.convert(arg(), ctx)), end };
    }
    if (Object.hasOwn(SYMBOLS, name)) return { text: SYMBOLS[name]!, end };
    if (Object.hasOwn(ACCENTS, name)) return { text: accent(ACCENTS[name]!, arg()), end };
    if (SILENT.has(name)) return { text: '', end };
    switch (name) {
      case 'begin': {
        const g = readGroup(s, end);
        if (!g) return { text: '', end };
        return this.environment(g.text.trim(), s, g.end, ctx);
      }
      case 'end': {
        // A stray \end (its \begin was in a macro or another file): nothing to print.
        const g = readGroup(s, end);
        return { text: '', end: g ? g.end : end };
      }
      case 'appendix':
        this.appendix = true;
        if (this.chapters) this.counters.chapter = 0;
        else this.counters.section = 0;
        return { text: '', end };
      case 'footnote': {
        opt();
        const t = this.inline(arg(), ctx);
        return { text: t ? ` (Footnote: ${t})` : '', end };
      }
      case 'footnotetext': {
        opt();
        const t = this.inline(arg(), ctx);
        return { text: t ? ` (Footnote: ${t})` : '', end };
      }
      case 'url':
      case 'nolinkurl':
        return { text: `<${arg().trim()}>`, end };
      case 'href': {
        const u = arg().trim();
        const t = this.inline(arg(), ctx);
        return { text: t ? `[${t}](${u})` : `<${u}>`, end };
      }
      case 'verb': {
        const d = s[end];
        if (!d) return { text: '', end };
        const close = s.indexOf(d, end + 1);
        const stop = close < 0 ? s.length : close;
        return { text: `\`${s.slice(end + 1, stop)}\``, end: stop + 1 };
      }
      case 'ensuremath':
        return { text: `$${cleanInlineMath(arg())}$`, end };
      case 'caption':
      case 'captionof': {
        const kind = name === 'captionof' ? capitalize(arg().trim()) : undefined;
        opt();
        return { text: this.caption(arg(), star, ctx, kind), end };
      }
      case 'subcaption':
      case 'subfloat': {
        const sub = { ...ctx, sub: ctx.sub ?? ctx.subs ?? {} };
        if (name === 'subfloat') {
          const t = opt();
          const body = this.convert(arg(), ctx);
          return { text: body + (t ? this.caption(t, false, sub) : ''), end };
        }
        opt();
        return { text: this.caption(arg(), false, sub), end };
      }
      case 'item': {
        // An \item outside a list (its list came from a macro): a bullet.
        const label = opt();
        return { text: `\n\n\u0004- ${label ? `**${this.inline(label, ctx)}** ` : ''}`, end };
      }
      case 'abstract': {
        // \abstract{…} (some classes) is the abstract environment.
        return this.environmentBody('abstract', arg(), ctx, end);
      }
      case 'vskip':
      case 'hskip':
      case 'kern': {
        // A dimension without braces (`\vskip 2pt plus 1pt`), read where it stands.
        const d = /\s*=?\s*-?[\d.]+\s*[a-z]{2}(?:\s*(?:plus|minus)\s*-?[\d.]+\s*[a-z]{2})*/y;
        d.lastIndex = end;
        return { text: '', end: d.exec(s) ? d.lastIndex : end };
      }
      case 'textcolor':
      case 'colorbox': {
        opt();
        arg();
        return { text: this.convert(arg(), ctx), end };
      }
      case 'multicolumn': {
        arg();
        arg();
        return { text: this.convert(arg(), ctx), end };
      }
      case 'multirow': {
        opt();
        arg();
        opt();
        arg();
        opt();
        return { text: this.convert(arg(), ctx), end };
      }
      case 'resizebox':
      case 'scalebox':
      case 'raisebox':
      case 'adjustbox': {
        arg();
        if (name === 'resizebox') arg();
        opt();
        return { text: this.convert(arg(), ctx), end };
      }
      case 'parbox': {
        opt();
        opt();
        opt();
        arg();
        return { text: this.convert(arg(), ctx), end };
      }
      case 'operatorname':
        return { text: this.convert(arg(), ctx), end };
      case 'texorpdfstring': {
        // {TeX}{plain}: the TeX form, as the paper shows it.
        const tex = arg();
        arg();
        return { text: this.convert(tex, ctx), end };
      }
    }
    const drop = DROP[name];
    if (drop) {
      for (let k = 0; k < drop[0]; k++) opt();
      for (let k = 0; k < drop[1]; k++) arg();
      return { text: '', end };
    }
    // Unknown: the name goes, an adjacent [option] goes, the arguments stay as text.
    const o = readOptional(s, end, false);
    return { text: '', end: o ? o.end : end };
  }

  private headingEnd(s: string, i: number): number {
    const o = readOptional(s, i);
    const g = readArg(s, o ? o.end : i);
    return g.end;
  }

  private heading(name: string, star: boolean, s: string, i: number, ctx: Ctx): string {
    const o = readOptional(s, i);
    const title = readArg(s, o ? o.end : i).text;
    let level = SECTIONS[name]!;
    if (!this.chapters && level >= 2) level -= 1;
    if (level === 0) level = 1;
    if (name === 'paragraph' || name === 'subparagraph') {
      const t = this.inline(title, ctx);
      return t ? `\n\n**${t}** ` : '';
    }
    let num = '';
    if (!star && name !== 'part') {
      const c = this.counters;
      if (name === 'chapter') {
        c.chapter++;
        if (this.equationsWithin) this.equation = 0;
        c.section = c.subsection = c.subsubsection = 0;
      } else if (name === 'section') {
        c.section++;
        if (this.equationsWithin === 'section') this.equation = 0;
        c.subsection = c.subsubsection = 0;
      } else if (name === 'subsection') {
        c.subsection++;
        c.subsubsection = 0;
      } else if (name === 'subsubsection') c.subsubsection++;
      const top = this.chapters ? c.chapter : c.section;
      const head = this.appendix ? letter(top) : String(top);
      const parts = this.chapters
        ? [head, c.section, c.subsection, c.subsubsection]
        : [head, c.subsection, c.subsubsection];
      const depth = this.chapters ? SECTIONS[name]! : SECTIONS[name]! - 1;
      num = parts.slice(0, Math.max(1, depth)).join('.');
      this.target = { kind: this.appendix && depth === 1 ? 'Appendix' : 'Section', num };
    }
    const text = this.inline(title, ctx);
    const hashes = '#'.repeat(Math.min(6, level + 1));
    return this.block(`${hashes} ${num ? `${num} ` : ''}${text || 'Untitled'}`);
  }

  private caption(text: string, star: boolean, ctx: Ctx, kind?: string): string {
    if (ctx.sub) {
      ctx.sub.count = (ctx.sub.count ?? 0) + 1;
      const t = this.inline(text, ctx);
      return this.block(`*(${String.fromCharCode(96 + ctx.sub.count)}) ${t}*`);
    }
    const k = (kind ?? ctx.float) as keyof Converter['floats'] | undefined;
    if (!k || !Object.hasOwn(this.floats, k) || star) return this.block(this.inline(text, ctx));
    const n = ++this.floats[k];
    // Before the text: a \label inside the caption names this float.
    this.target = { kind: k, num: String(n) };
    return this.block(`**${k} ${n}:** ${this.inline(text, ctx)}`);
  }

  private environment(name: string, s: string, i: number, ctx: Ctx): { text: string; end: number } {
    const base = name.replace(/\*$/, '');
    if (VERBATIM.has(name)) {
      const close = s.indexOf(`\\end{${name}}`, i);
      const stop = close < 0 ? s.length : close;
      let body = s.slice(i, stop);
      if (name === 'minted') body = body.replace(/^\s*(\[[^\]]*\])?\s*\{[^}]*\}/, '');
      else if (name === 'lstlisting') body = body.replace(/^\[[^\]]*\]/, '');
      body = body
        .replace(/^[ \t]*\n/, '')
        .replace(/\n[ \t]*$/, '')
        .replace(/[ \t]+$/gm, '');
      return {
        text: this.block(`\`\`\`\n${body}\n\`\`\``),
        end: close < 0 ? s.length : close + name.length + 6,
      };
    }
    const { body, end } = envBody(s, i, name);
    if (DROP_ENVS.has(name)) return { text: '', end };
    return this.environmentBody(name, body, ctx, end, base);
  }

  private environmentBody(
    name: string,
    raw: string,
    ctx: Ctx,
    end: number,
    base = name.replace(/\*$/, ''),
  ): { text: string; end: number } {
    let body = raw;
    const skip = ENV_ARGS[name];
    if (skip) body = skipArgs(body, skip);
    const starred = name.endsWith('*');
    if (MATH_ENVS.has(base)) {
      if (base === 'math') return { text: `$${this.mathText(body, false)}$`, end };
      const numbered = !starred && base !== 'displaymath' && !/\\(nonumber|notag)(?![a-zA-Z])/.test(body);
      return { text: this.displayMath(body, numbered ? 'equation' : 'none'), end };
    }
    if (ALIGN_ENVS.has(base)) {
      const numbering = starred ? 'none' : base === 'multline' ? 'equation' : 'rows';
      return { text: this.displayMath(body, numbering, name), end };
    }
    if (base === 'abstract') {
      const text = this.render(body, ctx);
      if (!this.abstract) this.abstract = text;
      return { text: this.block('## Abstract') + this.block(text), end };
    }
    if (ACKS.has(name)) return { text: this.block('## Acknowledgments') + this.convert(body, ctx), end };
    if (LISTS.has(name)) return { text: this.list(name, body, ctx), end };
    if (Object.hasOwn(TABULARS, name)) return { text: this.table(name, body, ctx), end };
    if (Object.hasOwn(FLOATS, name)) {
      const kind = FLOATS[name]!;
      // algorithm2e writes its steps straight into the float (`\While{c}{…}`, `x\;`).
      if (kind === 'Algorithm' && !body.includes('\\begin{algorithmic') && ALGORITHM2E.test(body))
        return { text: this.algorithm2e(body, { ...ctx, float: kind }), end };
      const inner = this.convert(body, { ...ctx, float: kind, subs: {} });
      // A float is its captions, tables and listings; the graphics and layout in it are not text.
      return { text: (inner.match(/\u0000\d+\u0000/g) ?? []).map((b) => `\n\n${b}\n\n`).join(''), end };
    }
    if (SUBFLOATS.has(name)) return { text: this.convert(body, { ...ctx, sub: ctx.subs ?? {} }), end };
    if (base === 'algorithmic' || base === 'algorithm2e' || base === 'algorithmic*')
      return { text: this.algorithm(body, ctx), end };
    if (base === 'thebibliography') {
      const items = splitItems(skipArgs(body, [0, 1]))
        .map((it) => this.inline(it.body.replace(/^\s*\{[^}]*\}/, ''), ctx))
        .filter(Boolean);
      return { text: this.block('## References') + this.block(items.map((t) => `- ${t}`).join('\n')), end };
    }
    if (base === 'proof') {
      const o = readOptional(body, 0);
      const title = o ? this.inline(o.text, ctx) : 'Proof';
      return { text: `\n\n*${title}.* ${this.convert(o ? body.slice(o.end) : body, ctx)} ∎\n\n`, end };
    }
    const declared = this.theorems.get(name) ?? this.theorems.get(base);
    const thm = declared?.title ?? THEOREMS[base];
    if (thm) {
      const o = readOptional(body, 0);
      let num = '';
      if (!starred && declared?.numbered !== false) {
        const counter = declared?.counter ?? base;
        const at = declared?.within ? this.sectionNumber() : '';
        const prev = this.theoremCount.get(counter);
        const n = prev && prev.at === at ? prev.n + 1 : 1;
        this.theoremCount.set(counter, { n, at });
        num = at ? `${at}.${n}` : String(n);
        this.target = { kind: thm, num };
        num = ` ${num}`;
      }
      const note = o ? ` (${this.inline(o.text, ctx)})` : '';
      return {
        text: `\n\n**${thm}${num}**${note}. ${this.convert(o ? body.slice(o.end) : body, ctx)}\n\n`,
        end,
      };
    }
    if (base === 'quote' || base === 'quotation') {
      const text = this.render(body, ctx);
      return { text: this.block(text.replace(/^/gm, '> ')), end };
    }
    // Unknown or layout-only (center, minipage, document, …): the content as text.
    return { text: `\n${this.convert(body, ctx)}\n`, end };
  }

  /** Math text as written: labels recorded and dropped, refs resolved later, no blank lines. */
  mathText(tex: string, display: boolean): string {
    let t = tex.replace(/\\label\s*\{([^}]*)\}/g, (_, key: string) => {
      if (this.target) this.labels.set(key.trim(), this.target);
      return '';
    });
    t = t.replace(
      /\\(eqref|ref|autoref|cref|Cref)\s*\{([^}]*)\}/g,
      (_, n: string, k: string) => `\u0001${n}:${k}\u0001`,
    );
    t = t.replace(/\\ensuremath\s*\{/g, '{');
    // A blank line would end a Markdown paragraph (and the math) early.
    return display ? t.replace(/\n[ \t]*(?=\n)/g, '') : cleanInlineMath(t);
  }

  private displayMath(tex: string, numbering: 'none' | 'equation' | 'rows', env?: string): string {
    let body = tex;
    if (numbering === 'equation') {
      const tag = /\\tag\*?\s*\{([^}]*)\}/.exec(body);
      const num = tag ? tag[1]! : this.nextEquation();
      this.target = { kind: 'Equation', num };
      body = this.mathText(body, true);
      if (!tag) body = `${body.trimEnd()} \\tag{${num}}`;
    } else if (numbering === 'rows') {
      // Each row of an align gets a number unless it says \nonumber or \notag (LaTeX's rule).
      const rows = splitTop(body, '\\\\');
      body = rows
        .map((row, k) => {
          const last = k === rows.length - 1;
          if (last && !row.replace(/\\end\{[^}]*\}/, '').trim()) return this.mathText(row, true);
          if (/\\(nonumber|notag)(?![a-zA-Z])/.test(row)) return this.mathText(row, true);
          const tag = /\\tag\*?\s*\{([^}]*)\}/.exec(row);
          const num = tag ? tag[1]! : this.nextEquation();
          this.target = { kind: 'Equation', num };
          const t = this.mathText(row, true);
          // The number shown, as in the paper, so that "Eq. (3)" in the text can be found.
          if (tag) return t;
          const trail = /\s*$/.exec(t)![0];
          const after = trail.includes('\n') ? trail.slice(trail.indexOf('\n')) : ' ';
          return `${t.slice(0, t.length - trail.length)} \\tag{${num}}${after}`;
        })
        .join('\\\\');
    } else body = this.mathText(body, true);
    if (env) body = `\\begin{${env}}${body}\\end{${env}}`;
    return this.block(`$$\n${body.trim()}\n$$`);
  }

  private dollarMath(s: string, i: number, ctx: Ctx): { text: string; end: number } {
    if (s[i + 1] === '$') return this.mathUntil(s, i + 2, '$$', true, ctx);
    return this.mathUntil(s, i + 1, '$', false, ctx);
  }

  private mathUntil(
    s: string,
    from: number,
    close: string,
    display: boolean,
    _ctx: Ctx,
  ): { text: string; end: number } {
    let k = from;
    for (;;) {
      k = s.indexOf(close, k);
      if (k < 0) return { text: close === '$' ? '\\$' : '', end: from }; // unclosed: the sign as text
      if (!isEscapedAt(s, k)) break;
      k += 1;
    }
    const tex = s.slice(from, k);
    const end = k + close.length;
    if (!tex.trim()) return { text: '', end };
    if (display) return { text: this.displayMath(tex, 'none'), end };
    return { text: `$${this.mathText(tex, false)}$`, end };
  }

  private list(name: string, body: string, ctx: Ctx): string {
    const ordered = /enum/.test(name);
    const lines: string[] = [];
    let n = 0;
    for (const it of splitItems(body)) {
      n++;
      if (ordered) this.target = { kind: 'Item', num: String(n) };
      const text = this.render(it.body, { ...ctx, inline: false });
      if (!text && it.label === undefined) continue;
      const label = it.label !== undefined ? `**${this.inline(it.label, ctx)}** ` : '';
      const marker = ordered && it.label === undefined ? `${n}.` : '-';
      const pad = ' '.repeat(marker.length + 1);
      lines.push(`${marker} ${label}${text.replace(/\n/g, `\n${pad}`)}`.replace(/\n\s+\n/g, '\n\n'));
    }
    return this.block(lines.join('\n'));
  }

  private table(name: string, raw: string, ctx: Ctx): string {
    const body = skipArgs(raw, [1, TABULARS[name]!]);
    if (ctx.cell) return ` ${this.inline(body.replace(/\\\\|&/g, ' '), ctx)} `;
    const rows: string[][] = [];
    let captions = '';
    for (const rowRaw of splitTop(body, '\\\\')) {
      let row = rowRaw.replace(/^\s*\[[^\]]*\]/, ''); // \\[2pt]
      // longtable's caption is a row of its own.
      const cap = /\\caption\*?/.exec(row);
      if (cap) {
        const g = readGroup(row, skipOptional(row, cap.index + cap[0].length));
        if (g) {
          captions += this.caption(g.text, cap[0].endsWith('*'), { ...ctx, float: 'Table' });
          row = row.slice(0, cap.index) + row.slice(g.end);
        }
      }
      row = row.replace(
        /\\(hline|toprule|midrule|bottomrule|endhead|endfirsthead|endfoot|endlastfoot|hdashline|addlinespace)(?![a-zA-Z])(\[[^\]]*\])?/g,
        '',
      );
      row = row.replace(/\\(cline|cmidrule)\s*(\([^)]*\))?\s*\{[^}]*\}/g, '');
      if (!row.trim()) continue;
      const cells: string[] = [];
      for (const cell of splitTop(row, '&')) {
        const mc = /^\s*\\multicolumn\s*\{\s*(\d+)\s*\}/.exec(cell);
        if (mc) {
          const spec = readGroup(cell, mc[0].length);
          const content = spec ? readGroup(cell, spec.end) : undefined;
          cells.push(this.cell(content?.text ?? '', ctx));
          for (let k = 1; k < Number(mc[1]); k++) cells.push('');
        } else cells.push(this.cell(cell, ctx));
      }
      if (cells.some((c) => c)) rows.push(cells);
    }
    if (!rows.length) return captions;
    const w = Math.max(...rows.map((r) => r.length));
    const line = (r: string[]) => `| ${Array.from({ length: w }, (_, k) => r[k] ?? '').join(' | ')} |`;
    return (
      captions + this.block([line(rows[0]!), `|${' --- |'.repeat(w)}`, ...rows.slice(1).map(line)].join('\n'))
    );
  }

  private cell(tex: string, ctx: Ctx): string {
    return this.inline(tex, { ...ctx, cell: true }).replace(/\|/g, '\\|');
  }

  /** algorithm2e: blocks are commands with braced bodies; a step ends with `\;`. */
  private algorithm2e(body: string, ctx: Ctx): string {
    const lines: string[] = [];
    let captions = '';
    const walk = (s: string, depth: number) => {
      let cur = '';
      const flush = () => {
        const t = this.inline(cur, ctx);
        if (t) lines.push(`${'  '.repeat(depth)}${t}`);
        cur = '';
      };
      let i = 0;
      while (i < s.length) {
        const bs = s.indexOf('\\', i);
        if (bs < 0) {
          cur += s.slice(i);
          break;
        }
        cur += s.slice(i, bs);
        const c = readControl(s, bs);
        i = c.end;
        const args = (n: number) => {
          const out: string[] = [];
          for (let k = 0; k < n; k++) {
            const a = readArg(s, i);
            out.push(a.text);
            i = a.end;
          }
          return out;
        };
        const head = (t: string) => this.inline(t, ctx);
        const name = c.name;
        if (name === ';') {
          flush();
        } else if (name === 'caption') {
          const o = readOptional(s, i);
          if (o) i = o.end;
          captions += this.caption(args(1)[0]!, c.star, ctx);
        } else if (/^(While|For|ForEach|ForAll|If|uIf|ElseIf|uElseIf|Repeat)$/.test(name)) {
          flush();
          const [cond, inner] = args(2);
          const opening: Record<string, string> = {
            While: 'while %s do',
            For: 'for %s do',
            ForEach: 'foreach %s do',
            ForAll: 'for all %s do',
            If: 'if %s then',
            uIf: 'if %s then',
            ElseIf: 'else if %s then',
            uElseIf: 'else if %s then',
            Repeat: 'repeat',
          };
          lines.push(`${'  '.repeat(depth)}${opening[name]!.replace('%s', head(cond!))}`);
          walk(name === 'Repeat' ? cond! : inner!, depth + 1);
          if (name === 'Repeat') lines.push(`${'  '.repeat(depth)}until ${head(inner!)}`);
          else if (!name.startsWith('u')) lines.push(`${'  '.repeat(depth)}end`);
        } else if (name === 'eIf') {
          flush();
          const [cond, yes, no] = args(3);
          lines.push(`${'  '.repeat(depth)}if ${head(cond!)} then`);
          walk(yes!, depth + 1);
          lines.push(`${'  '.repeat(depth)}else`);
          walk(no!, depth + 1);
          lines.push(`${'  '.repeat(depth)}end`);
        } else if (name === 'Else' || name === 'uElse') {
          flush();
          lines.push(`${'  '.repeat(depth)}else`);
          walk(args(1)[0]!, depth + 1);
          if (name === 'Else') lines.push(`${'  '.repeat(depth)}end`);
        } else if (/^l(If|For|ForEach|While|Else)$/.test(name)) {
          flush();
          const [cond, inner] = name === 'lElse' ? ['', args(1)[0]] : args(2);
          const word = { lIf: 'if', lFor: 'for', lForEach: 'foreach', lWhile: 'while', lElse: 'else' }[name]!;
          const then = name === 'lIf' ? ' then' : name === 'lElse' ? '' : ' do';
          lines.push(`${'  '.repeat(depth)}${word}${cond ? ` ${head(cond)}` : ''}${then} ${head(inner!)}`);
        } else if (/^(KwIn|KwOut|KwData|KwResult|KwRet|Return|KwTo|Input|Output)$/.test(name)) {
          const label: Record<string, string> = {
            KwIn: 'Input:',
            Input: 'Input:',
            KwOut: 'Output:',
            Output: 'Output:',
            KwData: 'Data:',
            KwResult: 'Result:',
            KwRet: 'return',
            Return: 'return',
            KwTo: 'to',
          };
          if (name === 'KwTo') cur += ' to ';
          else {
            flush();
            lines.push(`${'  '.repeat(depth)}${label[name]} ${head(args(1)[0]!)}`.trimEnd());
          }
        } else if (name === 'tcp' || name === 'tcc') {
          const t = head(args(1)[0]!);
          if (lines.length && !cur.trim()) lines[lines.length - 1] += ` // ${t}`;
          else cur += ` // ${t}`;
        } else if (
          /^(SetKwInOut|SetKwFunction|SetKwProg|SetKw|SetKwData|SetKwBlock|SetKwRepeat|SetKwIF|SetKwFor)$/.test(
            name,
          )
        ) {
          args(
            name === 'SetKwProg' || name === 'SetKwBlock'
              ? 4
              : name === 'SetKwRepeat'
                ? 3
                : name === 'SetKwIF' || name === 'SetKwFor'
                  ? 4
                  : 2,
          );
        } else {
          // Anything else (math, text commands) stays in the step, converted as text.
          cur += s.slice(bs, c.end);
        }
      }
      flush();
    };
    walk(body, 0);
    return captions + this.block(`\`\`\`\n${lines.join('\n')}\n\`\`\``);
  }

  private algorithm(body: string, ctx: Ctx): string {
    const lines: string[] = [];
    let depth = 0;
    const OPEN = /^(If|For|ForAll|While|Function|Procedure|Loop|Repeat|IF|FOR|FORALL|WHILE|LOOP|REPEAT)$/;
    const CLOSE =
      /^(EndIf|EndFor|EndWhile|EndFunction|EndProcedure|EndLoop|Until|ENDIF|ENDFOR|ENDWHILE|ENDLOOP|UNTIL)$/;
    const MID = /^(Else|ElsIf|ELSE|ELSIF)$/;
    const re = /\\([A-Za-z]+)(?![a-zA-Z])/g;
    const KEY =
      /^(State|STATE|Statex|If|IF|ElsIf|ELSIF|Else|ELSE|EndIf|ENDIF|For|FOR|ForAll|FORALL|EndFor|ENDFOR|While|WHILE|EndWhile|ENDWHILE|Repeat|REPEAT|Until|UNTIL|Loop|LOOP|EndLoop|ENDLOOP|Return|RETURN|Require|REQUIRE|Ensure|ENSURE|Input|Output|Function|EndFunction|Procedure|EndProcedure|Comment|COMMENT|Call)$/;
    let pending: { key: string; start: number } | undefined;
    const flush = (stop: number) => {
      if (!pending) return;
      const { key } = pending;
      let rest = body.slice(pending.start, stop);
      let head = '';
      if (
        /^(If|IF|ElsIf|ELSIF|While|WHILE|For|FOR|ForAll|FORALL|Until|UNTIL|Function|Procedure|Call)$/.test(
          key,
        )
      ) {
        const g = readGroup(rest, 0);
        if (g) {
          head = this.inline(g.text, ctx);
          rest = rest.slice(g.end);
          if (/^(Function|Procedure|Call)$/.test(key)) {
            const a = readGroup(rest, 0);
            if (a) {
              head += `(${this.inline(a.text, ctx)})`;
              rest = rest.slice(a.end);
            }
          }
        }
      }
      const text = this.inline(rest, ctx);
      const word: Record<string, string> = {
        If: `if ${head} then`,
        ElsIf: `else if ${head} then`,
        While: `while ${head} do`,
        For: `for ${head} do`,
        ForAll: `for all ${head} do`,
        Until: `until ${head}`,
        Function: `function ${head}`,
        Procedure: `procedure ${head}`,
        Call: head,
        Return: 'return',
        Require: 'Require:',
        Ensure: 'Ensure:',
        Input: 'Input:',
        Output: 'Output:',
        Else: 'else',
        Repeat: 'repeat',
        Loop: 'loop',
        Comment: '▷',
      };
      const norm = key === 'STATE' || key === 'Statex' ? 'State' : capitalizeAlgo(key);
      if (CLOSE.test(key) && !/^(Until|UNTIL)$/.test(key)) depth = Math.max(0, depth - 1);
      const indent = '  '.repeat(Math.max(0, depth - (MID.test(key) ? 1 : 0)));
      const prefix =
        norm === 'State'
          ? ''
          : (word[norm] ?? (CLOSE.test(key) ? `end ${norm.replace(/^End/i, '').toLowerCase()}` : norm));
      const line = `${indent}${[prefix, text].filter(Boolean).join(' ')}`;
      if (line.trim()) lines.push(line);
      if (OPEN.test(key)) depth++;
      if (/^(Until|UNTIL)$/.test(key)) depth = Math.max(0, depth - 1);
    };
    for (let m = re.exec(body); m; m = re.exec(body)) {
      if (!KEY.test(m[1]!)) continue;
      flush(m.index);
      pending = { key: m[1]!, start: m.index + m[0].length };
    }
    if (!pending) return this.convert(body, ctx);
    flush(body.length);
    return this.block(`\`\`\`\n${lines.join('\n')}\n\`\`\``);
  }

  /** `\ref` placeholders → numbers once every label is known. */
  resolveRefs(md: string): string {
    return md.replace(/\u0001([a-zA-Z]+):([^\u0001]*)\u0001/g, (_, cmd: string, keys: string) => {
      const parts = keys
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean)
        .map((k) => {
          const t = this.labels.get(k);
          if (!t) return { text: `[${k}]`, kind: '' };
          return { text: t.num, kind: t.kind };
        });
      if (cmd === 'eqref') return parts.map((p) => `(${p.text})`).join(', ');
      if (/^(autoref|Autoref|cref|Cref|labelcref|vref)$/.test(cmd) && parts[0]?.kind && cmd !== 'labelcref') {
        const kind = parts[0].kind === 'Item' ? 'item' : parts[0].kind;
        const words = parts.map((p) => (p.kind === 'Equation' ? `(${p.text})` : p.text)).join(', ');
        return `${kind}${parts.length > 1 ? 's' : ''} ${words}`;
      }
      return parts.map((p) => p.text).join(', ');
    });
  }
}

interface Ctx {
  inline?: boolean;
  cell?: boolean;
  float?: 'Figure' | 'Table' | 'Algorithm';
  /** Inside a subfigure: its caption is lettered. */
  sub?: { count?: number };
  /** The float's count of subfigures, shared by them. */
  subs?: { count?: number };
}

function wrap(style: string, text: string): string {
  const t = text.trim();
  if (!t || !style) return text;
  // Keep the spaces around outside the markers, which Markdown needs to see the emphasis.
  const lead = /^\s/.test(text) ? ' ' : '';
  const trail = /\s$/.test(text) ? ' ' : '';
  return `${lead}${style}${t}${style}${trail}`;
}

function accent(mark: string, base: string): string {
  const b = base.replace(/^\\i$/, 'i').replace(/^\\j$/, 'j').replace(/[{}]/g, '');
  if (!b) return '';
  return (b[0]! + mark + b.slice(1)).normalize('NFC');
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
const capitalizeAlgo = (s: string) =>
  s === s.toUpperCase()
    ? ({
        FORALL: 'ForAll',
        ELSIF: 'ElsIf',
        ENDIF: 'EndIf',
        ENDFOR: 'EndFor',
        ENDWHILE: 'EndWhile',
        ENDLOOP: 'EndLoop',
      }[s] ?? capitalize(s))
    : s;
const letter = (n: number) => (n >= 1 && n <= 26 ? String.fromCharCode(64 + n) : String(n));

function cleanInlineMath(tex: string): string {
  return tex.replace(/\s+/g, ' ').trim();
}

function isEscapedAt(s: string, i: number): boolean {
  let n = 0;
  for (let k = i - 1; k >= 0 && s[k] === '\\'; k--) n++;
  return n % 2 === 1;
}

function skipOptional(s: string, i: number): number {
  const o = readOptional(s, i);
  return o ? o.end : i;
}

/** Leading environment arguments removed: `[opt]` up to `optional` times, then `mandatory` groups. */
function skipArgs(body: string, [optional, mandatory]: [number, number]): string {
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
function envBody(s: string, i: number, name: string): { body: string; end: number } {
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
function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let env = 0;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (s.startsWith(sep, i) && depth === 0 && env === 0 && !isEscapedAt(s, i)) {
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
function splitItems(body: string): { label?: string; body: string }[] {
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

/** The first `\cmd[opt]{…}` argument in the text. */
function commandArg(s: string, cmd: string): string | undefined {
  const re = new RegExp(`\\\\${cmd}(?![a-zA-Z@])\\*?`, 'g');
  const m = re.exec(s);
  if (!m) return undefined;
  const g = readGroup(s, skipOptional(s, m.index + m[0].length));
  return g?.text;
}

function allCommandArgs(s: string, cmd: string, extra = 0): string[] {
  const re = new RegExp(`\\\\${cmd}(?![a-zA-Z@])\\*?`, 'g');
  const out: string[] = [];
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const g = readGroup(s, skipOptional(s, m.index + m[0].length));
    if (g) out.push(g.text);
    for (let k = 0; k < extra && g; k++) readGroup(s, g.end);
  }
  return out;
}

function authorsOf(doc: string, conv: Converter): string[] {
  const raw = [...allCommandArgs(doc, 'author'), ...allCommandArgs(doc, 'icmlauthor')];
  const names: string[] = [];
  for (const a of raw) {
    const cleaned = a
      .replace(
        /\\(thanks|footnote|footnotemark|inst|affil|affiliation|email|IEEEauthorblockA|textsuperscript|orcid|orcidlink)\s*(\[[^\]]*\])?\s*(\{(?:[^{}]|\{[^{}]*\})*\})?/g,
        '',
      )
      .replace(/\$\^\{?[^$]*\}?\$/g, '')
      .replace(/\\IEEEauthorblockN\s*\{((?:[^{}]|\{[^{}]*\})*)\}/g, '$1');
    for (const part of cleaned.split(/\\(?:and|And|AND)(?![a-zA-Z])/)) {
      const first = part.split(/\\\\|\\newline(?![a-zA-Z])/)[0] ?? '';
      const text = conv.inline(first).replace(/[*`]/g, '');
      for (const name of text.split(/\s*[,&]\s*|\s+and\s+/))
        if (name && /\p{L}/u.test(name) && !name.includes('@') && name.length < 80) names.push(name.trim());
    }
  }
  return [...new Set(names)];
}

function countChapters(body: string): boolean {
  return /\\chapter\*?\s*[{[]/.test(body);
}

/**
 * A LaTeX document → Markdown. `read` gives the text of other files of the source (for \input),
 * by their path relative to the root; `mainPath` is the main file's path there.
 */
export function latexToMarkdown(
  main: string,
  read: ReadFile = () => undefined,
  mainPath = 'main.tex',
): LatexMarkdown {
  const warnings: string[] = [];
  const text = resolveInputs(stripComments(main), read, mainPath, warnings);
  const begin = text.indexOf('\\begin{document}');
  let preamble = begin >= 0 ? text.slice(0, begin) : '';
  let body = begin >= 0 ? text.slice(begin + '\\begin{document}'.length) : text;
  const stop = body.indexOf('\\end{document}');
  if (stop >= 0) body = body.slice(0, stop);
  // Definitions are read from the preamble and the body apart: a definition the reader gets wrong
  // in a package (unbalanced braces) cannot swallow the paper.
  const dir = mainPath.includes('/') ? mainPath.slice(0, mainPath.lastIndexOf('/') + 1) : '';
  const pre = collectMacros(includeLocalPackages(preamble, read, dir), HANDLED);
  const post = collectMacros(body, HANDLED, pre.macros);
  const macros = post.macros;
  preamble = expandMacros(pre.text, macros);
  body = expandMacros(post.text, macros);
  // \input inside a macro (`\newcommand{\tab}[1]{\input{tables/#1}}`) names its file only now.
  if (/\\(input|include|subfile)(?![a-zA-Z@])/.test(body)) {
    const again = collectMacros(resolveInputs(body, read, mainPath, warnings), HANDLED, macros);
    body = expandMacros(again.text, macros);
  }
  const chapters = countChapters(body);
  // Papers number equations on (1), (2), …; a report per chapter, or as \numberwithin says.
  const within = /\\numberwithin\s*\{equation\}\s*\{(section|chapter)\}/.exec(preamble + body)?.[1] as
    | 'section'
    | 'chapter'
    | undefined;
  const conv = new Converter(chapters, macros.theorems, within ?? (chapters ? 'chapter' : undefined));
  const titleTex = commandArg(preamble + body, 'title') ?? commandArg(preamble + body, 'icmltitle') ?? '';
  const title = conv
    .inline(titleTex.replace(/\\thanks\s*\{(?:[^{}]|\{[^{}]*\})*\}/g, ''))
    .replace(/\*\*/g, '');
  const authors = authorsOf(preamble + body, conv);
  let md = conv.render(body);
  // An abstract given in the preamble (\abstract{…}) or before \maketitle is read like the environment.
  if (!conv.abstract) {
    const a = /\\begin\{abstract\}([\s\S]*?)\\end\{abstract\}/.exec(preamble);
    if (a) {
      conv.abstract = conv.render(a[1]!);
      md = `## Abstract\n\n${conv.abstract}\n\n${md}`;
    }
  }
  const head = [`# ${title || 'Untitled'}`];
  if (authors.length) head.push(`*${authors.join(', ')}*`);
  md = conv.resolveRefs([...head, md].filter(Boolean).join('\n\n'));
  md = md.replace(/[\u0000-\u0004]/g, '').replace(/\n{3,}/g, '\n\n');
  return { title, authors, abstract: conv.resolveRefs(conv.abstract), markdown: `${md.trim()}\n`, warnings };
}
