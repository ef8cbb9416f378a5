/** The LaTeX → Markdown converter on its own: the cases papers write, and odd input it must survive. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSections } from '../../../../src/paper';
import { latexToMarkdown } from '../../../../src/paper/latex/document';
import { collectMacros, expandMacros } from '../../../../src/paper/latex/macros';
import { stripComments } from '../../../../src/paper/latex/scan';

/** The body's Markdown, without the title line. */
function md(body: string, preamble = ''): string {
  const r = latexToMarkdown(
    `\\documentclass{article}\n${preamble}\n\\begin{document}\n${body}\n\\end{document}\n`,
  );
  return r.markdown.replace(/^# Untitled\n*/, '').trim();
}

test('comments: % to the end of the line goes (with the line break), \\% stays, comment environments go', () => {
  assert.equal(stripComments('a % note\nb'), 'a b');
  assert.equal(stripComments('50\\% of runs % not this\n'), '50\\% of runs ');
  assert.equal(stripComments('line\\\\% comment\nnext'), 'line\\\\next');
  assert.equal(stripComments('joined%\n   word'), 'joinedword');
  assert.equal(md('One.\n\n% a whole line\n\nTwo.'), 'One.\n\nTwo.');
  assert.equal(md('Keep \\begin{comment}drop this\\end{comment} going.'), 'Keep going.');
  assert.equal(md('A \\iffalse hidden \\ifx\\a\\b nested \\fi still hidden \\fi B.'), 'A B.');
});

test('macros: \\newcommand with and without arguments, optional defaults, \\def, \\let, \\DeclareMathOperator', () => {
  const pre = String.raw`
\newcommand{\R}{\mathbb{R}}
\newcommand\vect[1]{\boldsymbol{#1}}
\newcommand{\norm}[2][2]{\|#2\|_{#1}}
\renewcommand*{\emptyset}{\varnothing}
\def\pair#1#2{(#1, #2)}
\def\delim#1.{never simple}
\let\eps\epsilon
\DeclareMathOperator*{\argmin}{arg\,min}
\providecommand{\R}{\mathbb{X}}`;
  const out = md(
    String.raw`Let $x \in \R^d$, $\vect{w}$, $\norm{x}$, $\norm[1]{x}$, $\pair{a}{b}$, $\eps$, $\argmin_x f(x)$, $\emptyset$.`,
    pre,
  );
  assert.equal(
    out,
    String.raw`Let $x \in \mathbb{R}^d$, $\boldsymbol{w}$, $\|x\|_{2}$, $\|x\|_{1}$, $(a, b)$, $\epsilon$, $\operatorname*{arg\,min}_x f(x)$, $\varnothing$.`,
  );
  assert.doesNotMatch(md('x', pre), /never simple|newcommand|def/);
});

test('macros: a recursive definition ends; a style redefining \\section does not hide the heading', () => {
  const { text, macros } = collectMacros('\\newcommand{\\loop}{\\loop x}\\loop', new Set());
  const out = expandMacros(text, macros);
  assert.ok(out.length < 10_000_000 && out.includes('x'));
  assert.equal(
    md('\\section{Intro}\nText.', '\\renewcommand\\section{\\@startsection{section}{1}{0pt}}'),
    '## 1 Intro\n\nText.',
  );
  assert.equal(md('\\a\\b', '\\newcommand{\\a}{\\b}\\newcommand{\\b}{\\a}'), '');
});

test('macros: a package shipped with the source is read; a broken definition in the preamble cannot eat the paper', () => {
  const files: Record<string, string> = {
    'macros.sty': '\\ProvidesPackage{macros}\n\\newcommand{\\given}{\\mid} % bar\n',
  };
  const r = latexToMarkdown(
    String.raw`\documentclass{article}
\usepackage[utf8]{inputenc}\usepackage{amsmath,macros}
\def\broken{\iffalse{\fi
\begin{document}
\section{Kept}
$p(y \given x)$
\end{document}`,
    (p) => files[p],
  );
  assert.match(r.markdown, /## 1 Kept\n\n\$p\(y \\mid x\)\$/);
});

test('macros: an \\input inside a macro is read once the macro names its file', () => {
  const files: Record<string, string> = { 'tables/main.tex': 'A & B \\\\ 1 & 2 \\\\' };
  const r = latexToMarkdown(
    String.raw`\documentclass{article}\newcommand{\tab}[1]{\begin{tabular}{cc}\input{tables/#1}\end{tabular}}
\begin{document}\tab{main}\tab{absent}\end{document}`,
    (p) => files[p],
  );
  assert.match(r.markdown, /\| A \| B \|\n\| --- \| --- \|\n\| 1 \| 2 \|/);
  assert.deepEqual(r.warnings, ['\\input{tables/absent}: no such file in the source']);
});

test('macros: \\newenvironment expands around its content', () => {
  const out = md(
    '\\begin{note}[Careful]Read this.\\end{note}',
    '\\newenvironment{note}[1][Note]{\\textbf{#1:} }{ (end)}',
  );
  assert.equal(out, '**Careful:** Read this. (end)');
});

test('math: inline and display forms, labels dropped, numbers for \\eqref and \\ref', () => {
  const out = md(String.raw`Inline $a+b$ and \(c\), display \[ E = mc^2 \] and $$x^2$$ then
\begin{equation}
  f(x) = x^2 \label{eq:f}
\end{equation}
\begin{equation*} g \end{equation*}
\begin{align}
  a &= b \label{eq:a} \\
  c &= d \nonumber \\
  e &= f \label{eq:e}
\end{align}
See \eqref{eq:f}, \eqref{eq:e}, \ref{eq:a} and \eqref{eq:none}.`);
  assert.equal(
    out,
    [
      'Inline $a+b$ and $c$, display',
      '',
      '$$\nE = mc^2\n$$',
      '',
      'and',
      '',
      '$$\nx^2\n$$',
      '',
      'then',
      '',
      '$$\nf(x) = x^2 \\tag{1}\n$$',
      '',
      '$$\ng\n$$',
      '',
      '$$\n\\begin{align}\n  a &= b \\tag{2} \\\\\n  c &= d \\nonumber \\\\\n  e &= f \\tag{3}\n\\end{align}\n$$',
      '',
      'See (1), (3), 2 and ([eq:none]).',
    ].join('\n'),
  );
});

test('math: no blank line inside display math; an unclosed $ is a dollar sign; $ escaped inside math', () => {
  assert.equal(md('\\begin{equation*}\na\n\n\nb\n\\end{equation*}'), '$$\na\nb\n$$');
  assert.equal(md('It costs $5 and more.'), 'It costs \\$5 and more.');
  assert.equal(md('Price $\\$5 + x$.'), 'Price $\\$5 + x$.');
});

test('sections: numbered like the PDF, starred ones unnumbered, appendix lettered, \\paragraph bold; ids for read_paper', () => {
  const out = md(String.raw`\section{Intro}
\subsection{Setting}
\subsubsection{Detail}
\paragraph{Note.} A paragraph.
\section*{Broader Impact}
\section{Method \texorpdfstring{$\alpha$}{alpha}}
\appendix
\section{Proofs}\label{app:proofs}
\subsection{Lemma}
See Appendix~\ref{app:proofs} and \autoref{app:proofs}.`);
  assert.equal(
    out,
    [
      '## 1 Intro',
      '### 1.1 Setting',
      '#### 1.1.1 Detail',
      '**Note.** A paragraph.',
      '## Broader Impact',
      '## 2 Method $\\alpha$',
      '## A Proofs',
      '### A.1 Lemma',
      'See Appendix A and Appendix A.',
    ].join('\n\n'),
  );
  assert.deepEqual(
    buildSections(`# T\n\n${out}`).map((s) => s.id),
    ['1', '1.1', '1.1.1', 'broader-impact', '2', 'A', 'A.1'],
  );
});

test('equations numbered within sections when the paper says so', () => {
  assert.equal(
    md(
      '\\section{A}\\begin{equation}a\\label{e:a}\\end{equation}\\section{B}\\begin{equation}b\\end{equation}\\begin{equation}c\\end{equation}\\eqref{e:a}',
      '\\numberwithin{equation}{section}',
    ),
    '## 1 A\n\n$$\na \\tag{1.1}\n$$\n\n## 2 B\n\n$$\nb \\tag{2.1}\n$$\n\n$$\nc \\tag{2.2}\n$$\n\n(1.1)',
  );
});

test('chapters: a report numbers sections inside chapters', () => {
  assert.equal(
    md('\\chapter{Start}\n\\section{One}\n\\chapter{Next}\n\\section{Two}'),
    '## 1 Start\n\n### 1.1 One\n\n## 2 Next\n\n### 2.1 Two',
  );
});

test('text: quotes, dashes, accents, special characters, styles, links, footnotes, citations', () => {
  assert.equal(
    md(
      "``Quoted'' -- pages 1--2 --- and `single'. " +
        String.raw`Erd\H{o}s, G\"odel, Poincar\'e, \c{C}a\u{g}, na\"{\i}ve, \ss.
\textbf{Bold}, \emph{it}, {\bf old bold}, \texttt{code}, 50\%, \&, \#1, a\_b, \url{https://x.org}, \href{https://y.org}{Y}.
Claim\footnote{A note.} with refs~\cite{a,b} \citep[p.~3]{c} \citet{d}.\nocite{e}`,
    ),
    '“Quoted” – pages 1–2 — and ‘single’. Erdős, Gödel, Poincaré, Çağ, naïve, ß. **Bold**, *it*, **old bold**, `code`, 50%, &, #1, a_b, <https://x.org>, [Y](https://y.org). Claim (Footnote: A note.) with refs [cite] [cite] [cite].',
  );
});

test('text that looks like Markdown structure stays text: no stray headings, lists or quotes', () => {
  assert.equal(
    md('\\# of runs is 5.\n\n1. place goes to us.\n\n- not a list\n\n> not a quote'),
    '\\# of runs is 5.\n\n1\\. place goes to us.\n\n\\- not a list\n\n\\> not a quote',
  );
  assert.deepEqual(
    buildSections(latexToMarkdown('\\section{Real}\n\\# fake heading').markdown).map((s) => s.title),
    ['1 Real'],
  );
});

test('unknown commands keep their argument text; unknown environments pass their content through', () => {
  assert.equal(md('\\mystery{kept} and \\other[opt]{also}.'), 'kept and also.');
  assert.equal(md('\\begin{weirdbox}Inside \\textbf{it}.\\end{weirdbox}'), 'Inside **it**.');
  assert.equal(md('\\begin{center}Centered\\end{center}'), 'Centered');
  assert.equal(md('Above.\\vskip 2pt plus 1pt Below.\\vspace{-3mm}\\hspace*{1em}End.'), 'Above. Below.End.');
  assert.equal(md('\\begin{tikzpicture}\\draw (0,0) -- (1,1);\\end{tikzpicture}Text.'), 'Text.');
});

test('tables: booktabs rules dropped, \\multicolumn spans, escaped & and | in cells, caption numbered', () => {
  const out = md(String.raw`\begin{table*}[t]
\caption{Scores.}\label{tab:s}
\resizebox{\linewidth}{!}{%
\begin{tabular}{@{}l|rr@{}}
\toprule
\multicolumn{3}{c}{Header spanning} \\ \cmidrule(lr){1-3}
A \& B & $x|y$ & \textbf{1.0} \\ \hline
C & \multirow{2}{*}{merged} & see \ref{tab:s} \\[2pt]
\bottomrule
\end{tabular}}
\end{table*}
Table~\ref{tab:s}.`);
  assert.equal(
    out,
    [
      '**Table 1:** Scores.',
      '',
      '| Header spanning |  |  |',
      '| --- | --- | --- |',
      '| A & B | $x\\|y$ | **1.0** |',
      '| C | merged | see 1 |',
      '',
      'Table 1.',
    ].join('\n'),
  );
});

test('figures: only captions remain, subfigures lettered, numbering shared with \\ref', () => {
  const out = md(String.raw`\begin{figure}
\centering
\begin{subfigure}[b]{0.45\textwidth}\includegraphics{a.png}\caption{Left.}\end{subfigure}
\begin{subfigure}[b]{0.45\textwidth}\includegraphics{b.png}\caption{Right.}\end{subfigure}
\caption{Both sides. \label{fig:both}}
\end{figure}
\begin{figure}\caption*{Unnumbered.}\end{figure}
\begin{figure}\caption[Short]{Second figure.}\label{fig:two}\end{figure}
Figures~\ref{fig:both} and \ref{fig:two}; \cref{fig:two}.`);
  assert.equal(
    out,
    [
      '*(a) Left.*',
      '*(b) Right.*',
      '**Figure 1:** Both sides.',
      'Unnumbered.',
      '**Figure 2:** Second figure.',
      'Figures 1 and 2; Figure 2.',
    ].join('\n\n'),
  );
});

test('lists: nested, numbered, description labels', () => {
  const out = md(String.raw`\begin{itemize}
\item First
\item Second
  \begin{enumerate}
    \item Inner one
    \item Inner two with $x$
  \end{enumerate}
\end{itemize}
\begin{description}
\item[Term] Meaning.
\end{description}`);
  assert.equal(out, '- First\n- Second\n\n  1. Inner one\n  2. Inner two with $x$\n\n- **Term** Meaning.');
});

test('theorems, proofs, quotes, verbatim and algorithms', () => {
  const out = md(
    String.raw`\begin{thm}[Bound]\label{thm:b} $x \le 1$. \end{thm}
\begin{lemma} Easy. \end{lemma}
\begin{proof} By \cref{thm:b}. \end{proof}
\begin{quote}Said once.\end{quote}
\begin{verbatim}
  x = 1 % kept? 
\end{verbatim}
\begin{algorithm}
\caption{Train}
\begin{algorithmic}[1]
\Require data $D$
\For{$t = 1$ to $T$}
  \State $\theta \gets \theta - \eta g_t$
\EndFor
\State \Return $\theta$
\end{algorithmic}
\end{algorithm}`,
    '\\newtheorem{thm}{Theorem}',
  );
  assert.equal(
    out,
    [
      '**Theorem 1** (Bound). $x \\le 1$.',
      '**Lemma 1**. Easy.',
      '*Proof.* By Theorem 1. ∎',
      '> Said once.',
      '```\n  x = 1 % kept?\n```',
      '**Algorithm 1:** Train',
      '```\nRequire: data $D$\nfor $t = 1$ to $T$ do\n  $\\theta \\gets \\theta - \\eta g_t$\nend for\nreturn $\\theta$\n```',
    ].join('\n\n'),
  );
});

test('algorithm2e: blocks with braced bodies and steps ending in \\; become indented lines', () => {
  const out = md(String.raw`\begin{algorithm}[H]
\SetAlgoLined\DontPrintSemicolon\SetKwInOut{Input}{Input}
\KwIn{dataset $D$}
initialise $\theta_0$\;
\For{$t \gets 1$ \KwTo $T$}{
  sample $x \sim D$\; \tcp{one sample}
  \eIf{$f(x) > 0$}{ $\theta \gets \theta + \eta$\; }{ \lIf{$x = 0$}{skip} }
}
\KwRet{$\theta$}\;
\caption{Training loop}\label{alg:train}
\end{algorithm}
Algorithm~\ref{alg:train}.`);
  assert.equal(
    out,
    [
      '**Algorithm 1:** Training loop',
      '',
      '```',
      'Input: dataset $D$',
      'initialise $\\theta_0$',
      'for $t \\gets 1$ to $T$ do',
      '  sample $x \\sim D$ // one sample',
      '  if $f(x) > 0$ then',
      '    $\\theta \\gets \\theta + \\eta$',
      '  else',
      '    if $x = 0$ then skip',
      '  end',
      'end',
      'return $\\theta$',
      '```',
      '',
      'Algorithm 1.',
    ].join('\n'),
  );
});

test('theorem counters: shared between environments, within sections, unnumbered with \\newtheorem*', () => {
  const out = md(
    String.raw`\section{A}
\begin{theorem}T.\end{theorem}\begin{proposition}P.\end{proposition}\begin{remark}R.\end{remark}
\section{B}
\begin{theorem}\label{t:b}U.\end{theorem}
See \cref{t:b}.`,
    String.raw`\newtheorem{theorem}{Theorem}[section]\newtheorem{proposition}[theorem]{Proposition}\newtheorem*{remark}{Remark}`,
  );
  assert.equal(
    out,
    '## 1 A\n\n**Theorem 1.1**. T.\n\n**Proposition 1.2**. P.\n\n**Remark**. R.\n\n## 2 B\n\n**Theorem 2.1**. U.\n\nSee Theorem 2.1.',
  );
});

test('title, authors and abstract from the styles papers use', () => {
  const article = latexToMarkdown(String.raw`\documentclass{article}
\title{A \textbf{Bold} Title\thanks{Funded.}\\ With Two Lines}
\author{Ada Lovelace\thanks{Equal.} \\ London \\ \texttt{ada@x.org} \And Alan Turing$^{1}$ \& Grace Hopper \\ Bletchley}
\begin{document}\maketitle
\begin{abstract} Short. \end{abstract}
\section{Intro} Hi.
\end{document}`);
  assert.equal(article.title, 'A Bold Title With Two Lines');
  assert.deepEqual(article.authors, ['Ada Lovelace', 'Alan Turing', 'Grace Hopper']);
  assert.equal(article.abstract, 'Short.');
  assert.match(
    article.markdown,
    /^# A Bold Title With Two Lines\n\n\*Ada Lovelace, Alan Turing, Grace Hopper\*\n\n## Abstract\n\nShort\.\n\n## 1 Intro\n\nHi\.\n$/,
  );
  const icml = latexToMarkdown(String.raw`\documentclass{article}
\begin{document}
\twocolumn[\icmltitle{ICML Paper}
\begin{icmlauthorlist}\icmlauthor{Grace Hopper}{yale}\icmlauthor{Edsger Dijkstra}{ut}\end{icmlauthorlist}
\icmlaffiliation{yale}{Yale}]
\printAffiliationsAndNotice{}
Body text.
\end{document}`);
  assert.equal(icml.title, 'ICML Paper');
  assert.deepEqual(icml.authors, ['Grace Hopper', 'Edsger Dijkstra']);
  assert.doesNotMatch(icml.markdown, /Yale|yale/);
});

test('a fragment without \\begin{document} is read as the body', () => {
  assert.equal(
    latexToMarkdown('\\section{Only}\nText $x$.').markdown,
    '# Untitled\n\n## 1 Only\n\nText $x$.\n',
  );
});

test('odd input never throws: prefixes, suffixes and garbled splices of a paper all convert', () => {
  const doc = String.raw`\documentclass{article}\newcommand{\x}[1]{#1#1}\def\y#1{\x{#1}}
\title{T}\begin{document}\maketitle\begin{abstract}A $b$\end{abstract}
\section{S}\label{s} Text {\bf b} \emph{e} $$x$$ \[y\] \(z\) \begin{align}a&=b\\c\end{align}
\begin{table}\caption{C}\begin{tabular}{cc}a&b\\\multicolumn{2}{c}{m}\\\end{tabular}\end{table}
\begin{itemize}\item[x] one \begin{enumerate}\item two\end{enumerate}\end{itemize}
\begin{verbatim}v\end{verbatim}\verb|q| \y{z} \ref{s} \cite{c} \footnote{f} \'e \unknown[o]{k}
\begin{algorithmic}\State a \If{b} \State c \EndIf\end{algorithmic}\end{document}`;
  let tried = 0;
  for (let n = 0; n <= doc.length; n += 2) {
    for (const s of [doc.slice(0, n), doc.slice(n), `${doc.slice(0, n)}}{$\\begin{x}[${doc.slice(n)}`]) {
      tried++;
      const r = latexToMarkdown(s);
      assert.equal(typeof r.markdown, 'string');
      assert.doesNotMatch(r.markdown, /[\u0000-\u0004]/, `placeholder left in output for cut ${n}`);
    }
  }
  assert.ok(tried > 800, String(tried));
});
