/** Math kept as written (`$…$`, `\(…\)`, `$$…$$`, `\[…\]`, equation and align environments), numbered with `\tag` as LaTeX numbers it. */
import type { Converter } from './converter';
import { isEscaped, splitTop } from './scan';

/** Math text as written: labels recorded and dropped, refs resolved later, no blank lines. */
export function mathText(conv: Converter, tex: string, display: boolean): string {
  let t = tex.replace(/\\label\s*\{([^}]*)\}/g, (_, key: string) => {
    conv.numbering.label(key.trim());
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

/**
 * A `$$` block. `numbered`: not at all, the whole as one equation, or each row (an align); `env`
 * keeps the environment around the body (renderers such as KaTeX and MathJax read it).
 */
export function displayMath(
  conv: Converter,
  tex: string,
  numbered: 'none' | 'equation' | 'rows',
  env?: string,
): string {
  let body = tex;
  if (numbered === 'equation') {
    const tag = /\\tag\*?\s*\{([^}]*)\}/.exec(body);
    const num = conv.numbering.equation(tag?.[1]);
    body = mathText(conv, body, true);
    if (!tag) body = `${body.trimEnd()} \\tag{${num}}`;
  } else if (numbered === 'rows') body = numberedRows(conv, body);
  else body = mathText(conv, body, true);
  if (env) body = `\\begin{${env}}${body}\\end{${env}}`;
  return conv.block(`$$\n${body.trim()}\n$$`);
}

/** Each row of an align gets a number unless it says \nonumber or \notag (LaTeX's rule). */
function numberedRows(conv: Converter, body: string): string {
  const rows = splitTop(body, '\\\\');
  return rows
    .map((row, k) => {
      const last = k === rows.length - 1;
      if (last && !row.replace(/\\end\{[^}]*\}/, '').trim()) return mathText(conv, row, true);
      if (/\\(nonumber|notag)(?![a-zA-Z])/.test(row)) return mathText(conv, row, true);
      const tag = /\\tag\*?\s*\{([^}]*)\}/.exec(row);
      const num = conv.numbering.equation(tag?.[1]);
      const t = mathText(conv, row, true);
      // The number shown, as in the paper, so that "Eq. (3)" in the text can be found.
      if (tag) return t;
      const trail = /\s*$/.exec(t)![0];
      const after = trail.includes('\n') ? trail.slice(trail.indexOf('\n')) : ' ';
      return `${t.slice(0, t.length - trail.length)} \\tag{${num}}${after}`;
    })
    .join('\\\\');
}

/** `$…$` or `$$…$$` at i. */
export function dollarMath(conv: Converter, s: string, i: number): { text: string; end: number } {
  if (s[i + 1] === '$') return mathUntil(conv, s, i + 2, '$$', true);
  return mathUntil(conv, s, i + 1, '$', false);
}

/** Math from `from` up to its unescaped `close`; an unclosed `$` is a dollar sign. */
export function mathUntil(
  conv: Converter,
  s: string,
  from: number,
  close: string,
  display: boolean,
): { text: string; end: number } {
  let k = from;
  for (;;) {
    k = s.indexOf(close, k);
    if (k < 0) return { text: close === '$' ? '\\$' : '', end: from }; // unclosed: the sign as text
    if (!isEscaped(s, k)) break;
    k += 1;
  }
  const tex = s.slice(from, k);
  const end = k + close.length;
  if (!tex.trim()) return { text: '', end };
  if (display) return { text: displayMath(conv, tex, 'none'), end };
  return { text: `$${mathText(conv, tex, false)}$`, end };
}

export function cleanInlineMath(tex: string): string {
  return tex.replace(/\s+/g, ' ').trim();
}
