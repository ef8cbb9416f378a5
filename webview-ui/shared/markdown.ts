/**
 * Markdown → a tree of allow-listed elements, never an HTML string. markdown-it parses (html: false,
 * linkify); this walks its tokens and keeps only the tags and attributes below, so nothing from the
 * text can become markup, a handler or a navigation: raw HTML stays text, links keep an href only when
 * it is http(s), mailto or a #fragment (the webview sends those to the host), images become links.
 * TeX math ($…$, $$…$$, \(…\), \[…\]) is kept verbatim in `.math` spans so emphasis rules do not eat
 * its underscores and stars. Pure (no DOM): unit-tested in Node; markdown-dom.ts builds the nodes.
 */
/// <reference path="./markdown-it.d.ts" />
import MarkdownIt, { type StateBlock, type StateInline, type Token } from 'markdown-it';

export type MdNode = string | MdElement;
export interface MdElement {
  tag: string;
  attrs: Record<string, string>;
  children: MdNode[];
}

const TAGS = new Set([
  'p',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'ul',
  'ol',
  'li',
  'blockquote',
  'pre',
  'code',
  'em',
  'strong',
  's',
  'a',
  'hr',
  'br',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'span',
  'div',
]);

/** The href a link may keep: absolute http(s)/mailto, or a fragment within the document. */
export function safeHref(href: string | null | undefined): string | undefined {
  if (!href) return undefined;
  const h = href.trim();
  if (/^#[^\s]*$/.test(h)) return h;
  try {
    const u = new URL(h);
    if ((u.protocol === 'http:' || u.protocol === 'https:') && u.hostname) return u.toString();
    if (u.protocol === 'mailto:' && u.pathname) return u.toString();
  } catch {
    // relative or malformed: not a link
  }
  return undefined;
}

/** GitHub-like slug of a heading, prefixed so that it cannot clobber the page's own ids. */
export function headingId(text: string): string {
  const slug = text
    .toLowerCase()
    .trim()
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .replace(/\s+/g, '-');
  return `md-${slug || 'section'}`;
}

// --- math: kept as written -------------------------------------------------------------------

function mathInline(state: StateInline, silent: boolean): boolean {
  const src = state.src;
  const start = state.pos;
  let open: string;
  let close: string;
  if (src.startsWith('$$', start)) [open, close] = ['$$', '$$'];
  else if (src[start] === '$') [open, close] = ['$', '$'];
  else if (src.startsWith('\\(', start)) [open, close] = ['\\(', '\\)'];
  else if (src.startsWith('\\[', start)) [open, close] = ['\\[', '\\]'];
  else return false;
  const from = start + open.length;
  // "$5 and $6" is money, not math: the opening $ is not followed by a space, the closing one not
  // preceded by a space nor followed by a digit.
  if (open === '$' && (from >= state.posMax || /\s/.test(src[from]!))) return false;
  let end = from;
  for (;;) {
    end = src.indexOf(close, end);
    if (end < 0 || end >= state.posMax) return false;
    if (src[end - 1] === '\\' && open === '$') {
      end += 1;
      continue;
    }
    if (open === '$' && (/\s/.test(src[end - 1]!) || /\d/.test(src[end + 1] ?? ''))) {
      end += 1;
      continue;
    }
    break;
  }
  if (end === from) return false;
  if (!silent) {
    const t = state.push(open.length === 2 && open !== '\\(' ? 'math_display' : 'math_inline', 'span', 0);
    t.content = src.slice(from, end);
    t.markup = open;
  }
  state.pos = end + close.length;
  return true;
}

function mathBlock(state: StateBlock, startLine: number, endLine: number, silent: boolean): boolean {
  const lineText = (n: number) => state.src.slice(state.bMarks[n]! + state.tShift[n]!, state.eMarks[n]!);
  const first = lineText(startLine);
  if (state.sCount[startLine]! - state.blkIndent >= 4) return false;
  const open = first.startsWith('$$') ? '$$' : first.startsWith('\\[') ? '\\[' : null;
  if (!open) return false;
  const close = open === '$$' ? '$$' : '\\]';
  const rest = first.slice(2);
  let body: string[];
  let last = startLine;
  if (rest.trimEnd().endsWith(close) && rest.trim().length >= close.length) {
    body = [rest.trimEnd().slice(0, -close.length)];
  } else {
    body = rest.trim() ? [rest] : [];
    let n = startLine + 1;
    for (; n < endLine; n++) {
      const l = lineText(n);
      if (l.trimEnd().endsWith(close)) {
        const before = l.trimEnd().slice(0, -close.length);
        if (before.trim()) body.push(before);
        break;
      }
      body.push(l);
    }
    if (n >= endLine) return false; // unclosed: leave it to the paragraph rule
    last = n;
  }
  if (silent) return true;
  const t = state.push('math_block', 'div', 0);
  t.block = true;
  t.content = body.join('\n').trim();
  t.markup = open;
  t.map = [startLine, last + 1];
  state.line = last + 1;
  return true;
}

let parser: MarkdownIt | undefined;
function md(): MarkdownIt {
  if (!parser) {
    parser = new MarkdownIt({ html: false, linkify: true, typographer: false });
    parser.inline.ruler.before('escape', 'math_inline', mathInline);
    parser.block.ruler.before('fence', 'math_block', mathBlock, {
      alt: ['paragraph', 'reference', 'blockquote', 'list'],
    });
  }
  return parser;
}

// --- tokens → tree -----------------------------------------------------------------------------

function el(tag: string, attrs: Record<string, string> = {}, children: MdNode[] = []): MdElement {
  return { tag: TAGS.has(tag) ? tag : 'span', attrs, children };
}

function text(t: MdElement, s: string): void {
  const last = t.children.at(-1);
  if (typeof last === 'string') t.children[t.children.length - 1] = last + s;
  else if (s) t.children.push(s);
}

function plain(tokens: Token[] | null): string {
  return (tokens ?? [])
    .map((t) => (t.children ? plain(t.children) : t.type === 'softbreak' ? ' ' : t.content))
    .join('');
}

function attrsOf(t: Token, children: Token[] | null): Record<string, string> | null {
  switch (t.tag) {
    case 'a': {
      const href = safeHref(t.attrGet('href'));
      return href ? { href, title: href } : null; // null: not a link, its text stays
    }
    case 'ol': {
      const start = t.attrGet('start');
      return start && /^\d{1,9}$/.test(start) ? { start } : {};
    }
    case 'th':
    case 'td': {
      const align = /text-align:(left|right|center)/.exec(t.attrGet('style') ?? '');
      return align ? { class: `align-${align[1]}` } : {};
    }
    default:
      return /^h[1-6]$/.test(t.tag) ? { id: headingId(plain(children)) } : {};
  }
}

function walk(tokens: Token[], root: MdElement): void {
  const stack: MdElement[] = [root];
  const top = () => stack[stack.length - 1]!;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    switch (t.type) {
      case 'inline':
        walk(t.children ?? [], top());
        continue;
      case 'text':
      case 'html_inline':
      case 'html_block':
        text(top(), t.content);
        continue;
      case 'softbreak':
        text(top(), '\n');
        continue;
      case 'hardbreak':
        top().children.push(el('br'));
        continue;
      case 'code_inline':
        top().children.push(el('code', {}, [t.content]));
        continue;
      case 'fence':
      case 'code_block': {
        const lang = /^[\w+-]{1,32}/.exec(t.info.trim())?.[0];
        top().children.push(
          el('pre', {}, [el('code', lang ? { class: `language-${lang}` } : {}, [t.content])]),
        );
        continue;
      }
      case 'math_inline':
        top().children.push(el('span', { class: 'math' }, [t.content]));
        continue;
      case 'math_display':
      case 'math_block':
        top().children.push(
          el(t.type === 'math_block' ? 'div' : 'span', { class: 'math display' }, [t.content]),
        );
        continue;
      case 'image': {
        const alt = plain(t.children) || 'image';
        const href = safeHref(t.attrGet('src'));
        top().children.push(href ? el('a', { href, title: href }, [`[${alt}]`]) : `[${alt}]`);
        continue;
      }
      case 'hr':
        top().children.push(el('hr'));
        continue;
      default:
        break;
    }
    if (t.hidden) continue; // the paragraphs of a tight list: their text goes to the item
    if (t.nesting === 1) {
      const next = tokens[i + 1];
      const attrs = attrsOf(t, next?.type === 'inline' ? next.children : null);
      const e = attrs === null ? el('span') : el(t.tag, attrs);
      top().children.push(e);
      stack.push(e);
    } else if (t.nesting === -1) {
      if (stack.length > 1) stack.pop();
    } else if (t.content) text(top(), t.content);
  }
}

/** The Markdown as allow-listed elements and text (children of one root). */
export function parseMarkdown(source: string): MdNode[] {
  const root = el('div');
  walk(md().parse(source, {}), root);
  return root.children;
}

/** Text of a tree (tests, and matching headings to section titles). */
export function textOf(nodes: MdNode[]): string {
  return nodes.map((n) => (typeof n === 'string' ? n : textOf(n.children))).join('');
}
