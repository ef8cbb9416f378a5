/**
 * LaTeX source → the Markdown the PDF path produces (`# Title`, `*authors*`, `## Abstract`, numbered
 * `## 1 Introduction` headings, `**Figure 1:**` captions, pipe tables), with equations kept as
 * written in `$…$` and `$$…$$`. Not a TeX engine: common commands are read, unknown commands drop
 * their name and keep their arguments as text, unknown environments pass their content through,
 * and nothing throws on odd input.
 */
import type { PdfMarkdown } from '../pdf/markdown';
import { Converter } from './converter';
import { ALIGN_ENVS, FLOATS, LISTS, MATH_ENVS, TABULARS, THEOREMS } from './environments';
import { includeLocalPackages, type ReadFile, resolveInputs } from './inputs';
import { collectMacros, expandMacros } from './macros';
import { readGroup, skipOptional, stripComments } from './scan';
import { CITE, REF, SECTIONS } from './vocabulary';

export interface LatexMarkdown extends PdfMarkdown {
  /** What could not be read (missing \input files, …), for the log. */
  warnings: string[];
}

/** Commands and environments this module handles itself: a \renewcommand in a style must not hide them. */
const HANDLED: ReadonlySet<string> = new Set([
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

/** The first `\cmd[opt]{…}` argument in the text. */
function commandArg(s: string, cmd: string): string | undefined {
  const re = new RegExp(`\\\\${cmd}(?![a-zA-Z@])\\*?`, 'g');
  const m = re.exec(s);
  if (!m) return undefined;
  const g = readGroup(s, skipOptional(s, m.index + m[0].length));
  return g?.text;
}

/** Every `\cmd[opt]{…}` argument in the text. */
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

/** The names in `\author` (and ICML's `\icmlauthor`), affiliations, marks and emails left out. */
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

/** A report or book: its top level is `\chapter`. */
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
  md = conv.numbering.resolveRefs([...head, md].filter(Boolean).join('\n\n'));
  md = md.replace(/[\u0000-\u0004]/g, '').replace(/\n{3,}/g, '\n\n');
  return {
    title,
    authors,
    abstract: conv.numbering.resolveRefs(conv.abstract),
    markdown: `${md.trim()}\n`,
    warnings,
  };
}
