/** LaTeX environments → Markdown: lists, tables, floats, theorems, proofs, quotes, verbatim, and the tables that name them. */
import { algorithm2e, algorithmic } from './algorithms';
import type { Converter, Ctx } from './converter';
import { displayMath, mathText } from './math';
import { envBody, readGroup, readOptional, skipArgs, skipOptional, splitItems, splitTop } from './scan';

export const MATH_ENVS = new Set(['equation', 'displaymath', 'math', 'dmath', 'dgroup']);
/** Kept as written inside `$$`: renderers (KaTeX, MathJax) understand them. */
export const ALIGN_ENVS = new Set([
  'align',
  'flalign',
  'alignat',
  'gather',
  'multline',
  'eqnarray',
  'xalignat',
]);
export const LISTS = new Set([
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
export const TABULARS: Record<string, number> = {
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
export const FLOATS: Record<string, 'Figure' | 'Table' | 'Algorithm'> = {
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
export const THEOREMS: Record<string, string> = {
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

/** `\begin{name}` whose content starts at i: its Markdown, and where its `\end` ends. */
export function environment(
  conv: Converter,
  name: string,
  s: string,
  i: number,
  ctx: Ctx,
): { text: string; end: number } {
  if (VERBATIM.has(name)) return verbatim(conv, name, s, i);
  const { body, end } = envBody(s, i, name);
  if (DROP_ENVS.has(name)) return { text: '', end };
  return { text: environmentBody(conv, name, body, ctx), end };
}

/** Verbatim text up to its `\end`, as a fenced code block. */
function verbatim(conv: Converter, name: string, s: string, i: number): { text: string; end: number } {
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
    text: conv.block(`\`\`\`\n${body}\n\`\`\``),
    end: close < 0 ? s.length : close + name.length + 6,
  };
}

/** An environment's content (its own arguments skipped) as Markdown. */
export function environmentBody(conv: Converter, name: string, raw: string, ctx: Ctx): string {
  const base = name.replace(/\*$/, '');
  let body = raw;
  const skip = ENV_ARGS[name];
  if (skip) body = skipArgs(body, skip);
  const starred = name.endsWith('*');
  if (MATH_ENVS.has(base)) {
    if (base === 'math') return `$${mathText(conv, body, false)}$`;
    const numbered = !starred && base !== 'displaymath' && !/\\(nonumber|notag)(?![a-zA-Z])/.test(body);
    return displayMath(conv, body, numbered ? 'equation' : 'none');
  }
  if (ALIGN_ENVS.has(base)) {
    const numbering = starred ? 'none' : base === 'multline' ? 'equation' : 'rows';
    return displayMath(conv, body, numbering, name);
  }
  if (base === 'abstract') {
    const text = conv.render(body, ctx);
    if (!conv.abstract) conv.abstract = text;
    return conv.block('## Abstract') + conv.block(text);
  }
  if (ACKS.has(name)) return conv.block('## Acknowledgments') + conv.convert(body, ctx);
  if (LISTS.has(name)) return list(conv, name, body, ctx);
  if (Object.hasOwn(TABULARS, name)) return table(conv, name, body, ctx);
  if (Object.hasOwn(FLOATS, name)) return float(conv, FLOATS[name]!, body, ctx);
  if (SUBFLOATS.has(name)) return conv.convert(body, { ...ctx, sub: ctx.subs ?? {} });
  if (base === 'algorithmic' || base === 'algorithm2e' || base === 'algorithmic*')
    return algorithmic(conv, body, ctx);
  if (base === 'thebibliography') {
    const items = splitItems(skipArgs(body, [0, 1]))
      .map((it) => conv.inline(it.body.replace(/^\s*\{[^}]*\}/, ''), ctx))
      .filter(Boolean);
    return conv.block('## References') + conv.block(items.map((t) => `- ${t}`).join('\n'));
  }
  if (base === 'proof') {
    const o = readOptional(body, 0);
    const title = o ? conv.inline(o.text, ctx) : 'Proof';
    return `\n\n*${title}.* ${conv.convert(o ? body.slice(o.end) : body, ctx)} ∎\n\n`;
  }
  const thm = theorem(conv, name, base, body, ctx);
  if (thm !== undefined) return thm;
  if (base === 'quote' || base === 'quotation') {
    const text = conv.render(body, ctx);
    return conv.block(text.replace(/^/gm, '> '));
  }
  // Unknown or layout-only (center, minipage, document, …): the content as text.
  return `\n${conv.convert(body, ctx)}\n`;
}

/** A float is its captions, tables and listings; the graphics and layout in it are not text. */
function float(conv: Converter, kind: 'Figure' | 'Table' | 'Algorithm', body: string, ctx: Ctx): string {
  // algorithm2e writes its steps straight into the float (`\While{c}{…}`, `x\;`).
  if (kind === 'Algorithm' && !body.includes('\\begin{algorithmic') && ALGORITHM2E.test(body))
    return algorithm2e(conv, body, { ...ctx, float: kind });
  const inner = conv.convert(body, { ...ctx, float: kind, subs: {} });
  return (inner.match(/\u0000\d+\u0000/g) ?? []).map((b) => `\n\n${b}\n\n`).join('');
}

/** A theorem-like environment (`\newtheorem`'s, or a common one): `**Theorem 2** (note). …`; undefined for others. */
function theorem(conv: Converter, name: string, base: string, body: string, ctx: Ctx): string | undefined {
  const declared = conv.theorems.get(name) ?? conv.theorems.get(base);
  const thm = declared?.title ?? THEOREMS[base];
  if (!thm) return undefined;
  const o = readOptional(body, 0);
  let num = '';
  if (!name.endsWith('*') && declared?.numbered !== false)
    num = ` ${conv.numbering.theorem(thm, declared?.counter ?? base, !!declared?.within)}`;
  const note = o ? ` (${conv.inline(o.text, ctx)})` : '';
  return `\n\n**${thm}${num}**${note}. ${conv.convert(o ? body.slice(o.end) : body, ctx)}\n\n`;
}

/** A list: numbered (`1.`) or bulleted, description labels in bold, nested lists indented. */
function list(conv: Converter, name: string, body: string, ctx: Ctx): string {
  const ordered = /enum/.test(name);
  const lines: string[] = [];
  let n = 0;
  for (const it of splitItems(body)) {
    n++;
    if (ordered) conv.numbering.item(n);
    const text = conv.render(it.body, { ...ctx, inline: false });
    if (!text && it.label === undefined) continue;
    const label = it.label !== undefined ? `**${conv.inline(it.label, ctx)}** ` : '';
    const marker = ordered && it.label === undefined ? `${n}.` : '-';
    const pad = ' '.repeat(marker.length + 1);
    lines.push(`${marker} ${label}${text.replace(/\n/g, `\n${pad}`)}`.replace(/\n\s+\n/g, '\n\n'));
  }
  return conv.block(lines.join('\n'));
}

/** A tabular as a pipe table: rules dropped, `\\multicolumn` spread over its columns, a longtable's caption above. */
function table(conv: Converter, name: string, raw: string, ctx: Ctx): string {
  const body = skipArgs(raw, [1, TABULARS[name]!]);
  if (ctx.cell) return ` ${conv.inline(body.replace(/\\\\|&/g, ' '), ctx)} `;
  const rows: string[][] = [];
  let captions = '';
  for (const rowRaw of splitTop(body, '\\\\')) {
    let row = rowRaw.replace(/^\s*\[[^\]]*\]/, ''); // \\[2pt]
    // longtable's caption is a row of its own.
    const cap = /\\caption\*?/.exec(row);
    if (cap) {
      const g = readGroup(row, skipOptional(row, cap.index + cap[0].length));
      if (g) {
        captions += conv.caption(g.text, cap[0].endsWith('*'), { ...ctx, float: 'Table' });
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
        cells.push(cellText(conv, content?.text ?? '', ctx));
        for (let k = 1; k < Number(mc[1]); k++) cells.push('');
      } else cells.push(cellText(conv, cell, ctx));
    }
    if (cells.some((c) => c)) rows.push(cells);
  }
  if (!rows.length) return captions;
  const w = Math.max(...rows.map((r) => r.length));
  const line = (r: string[]) => `| ${Array.from({ length: w }, (_, k) => r[k] ?? '').join(' | ')} |`;
  return (
    captions + conv.block([line(rows[0]!), `|${' --- |'.repeat(w)}`, ...rows.slice(1).map(line)].join('\n'))
  );
}

/** A table cell on one line, its `|` escaped. */
function cellText(conv: Converter, tex: string, ctx: Ctx): string {
  return conv.inline(tex, { ...ctx, cell: true }).replace(/\|/g, '\\|');
}
