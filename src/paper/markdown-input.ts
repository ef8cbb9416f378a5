/** Markdown papers taken as they are: title and authors from the front matter or the first H1. */
import { markdownHeadings } from './sections';

export interface MarkdownMeta {
  title: string;
  authors: string[];
  abstract: string;
}

/** Minimal reader of a YAML front matter block: only the keys a paper needs (title, author(s), abstract). */
function frontMatter(md: string): { body: Record<string, string[]>; end: number } {
  const m = /^---\r?\n([\s\S]*?)\r?\n(?:---|\.\.\.)\r?\n/.exec(md);
  if (!m) return { body: {}, end: 0 };
  const out: Record<string, string[]> = {};
  let key: string | undefined;
  for (const line of m[1]!.split(/\r?\n/)) {
    const top = /^([A-Za-z_][\w-]*):\s*(.*)$/.exec(line);
    if (top) {
      key = top[1]!.toLowerCase();
      out[key] = top[2] ? [unquote(top[2])] : [];
      continue;
    }
    if (!key) continue;
    const item = /^\s*-\s*(?:name:\s*)?(.+)$/.exec(line);
    const name = /^\s+name:\s*(.+)$/.exec(line);
    if (item && !/^\s*-\s*\w+:/.test(line.replace(/name:/, ''))) out[key]!.push(unquote(item[1]!));
    else if (name) out[key]!.push(unquote(name[1]!));
    else if (/^\s+\S/.test(line) && (key === 'abstract' || key === 'title')) out[key]!.push(line.trim());
  }
  return { body: out, end: m[0].length };
}

function unquote(s: string): string {
  const t = s.trim();
  return /^(["']).*\1$/.test(t) ? t.slice(1, -1) : t;
}

export function markdownMeta(md: string): MarkdownMeta {
  const { body, end } = frontMatter(md);
  const title =
    (body.title ?? []).filter((s) => s !== '|' && s !== '>').join(' ') ||
    markdownHeadings(md).find((h) => h.hashes === 1 && h.offset >= end)?.text ||
    '';
  const authors = [...(body.author ?? []), ...(body.authors ?? [])].filter((s) => s && !/^[|>]$/.test(s));
  let abstract = (body.abstract ?? []).filter((s) => s !== '|' && s !== '>').join(' ');
  if (!abstract) {
    const hs = markdownHeadings(md);
    const k = hs.findIndex((h) => /^abstract$/i.test(h.text.trim()));
    if (k >= 0) {
      const from = md.indexOf('\n', hs[k]!.offset) + 1;
      abstract = md.slice(from, hs[k + 1]?.offset ?? md.length).trim();
    }
  }
  return { title, authors, abstract };
}
