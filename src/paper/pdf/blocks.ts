/** Text blocks of a run of lines (paragraphs, list items, captions, equations, tables) and their Markdown. */
import type { Line } from './layout';
import { CAPTION_RE, LIST_RE } from './text';

export type Join = (a: string, b: string) => string;

export type Block =
  | { kind: 'heading'; text: string; level: number }
  | { kind: 'para' | 'caption' | 'item' | 'equation' | 'footnote'; lines: Line[] }
  | { kind: 'table'; rows: string[][] };

function endsSentence(s: string): boolean {
  return /[.!?:)"”'’]$/.test(s.trim());
}

function isCentered(l: Line): boolean {
  const w = l.colRight - l.colLeft || 1;
  const left = l.x0 - l.colLeft;
  if (/\(\d{1,3}[a-z]?\)$/.test(l.text) && left > 0.15 * w) return true;
  return left > 0.2 * w && l.colRight - l.x1 > 0.15 * w;
}

/** Aligned cell starts between two rows (within 4 pt). */
function aligned(a: Line, b: Line): number {
  const mid = (c: { x0: number; x1: number }) => (c.x0 + c.x1) / 2;
  return a.cells.filter((c) =>
    b.cells.some(
      (d) => Math.abs(c.x0 - d.x0) < 4 || Math.abs(c.x1 - d.x1) < 4 || Math.abs(mid(c) - mid(d)) < 4,
    ),
  ).length;
}

function tableRuns(run: Line[]): Map<number, number> {
  const out = new Map<number, number>();
  let i = 0;
  while (i < run.length) {
    let j = i;
    while (
      j + 1 < run.length &&
      run[j]!.cells.length >= 3 &&
      run[j + 1]!.cells.length >= 3 &&
      run[j + 1]!.page === run[j]!.page &&
      aligned(run[j]!, run[j + 1]!) >= 2
    )
      j++;
    const len = j - i + 1;
    const captionNear = run
      .slice(Math.max(0, i - 3), Math.min(run.length, j + 4))
      .some((l) => /^Table\s*\d/.test(l.text));
    if (len >= 2 && (len >= 3 || captionNear)) out.set(i, len);
    i = j + 1;
  }
  return out;
}

/** Splits a run of non-heading lines into paragraphs, list items, captions, equations and tables. */
export function textBlocks(run: Line[], bodySize: number): Block[] {
  const blocks: Block[] = [];
  const tables = tableRuns(run);
  let cur: Extract<Block, { lines: Line[] }> | undefined;
  const close = () => {
    if (cur) blocks.push(cur);
    cur = undefined;
  };
  for (let i = 0; i < run.length; i++) {
    const tl = tables.get(i);
    if (tl) {
      close();
      blocks.push({ kind: 'table', rows: run.slice(i, i + tl).map((l) => l.cells.map((c) => c.text)) });
      i += tl - 1;
      continue;
    }
    const l = run[i]!;
    const text = l.text.trim();
    const kind = CAPTION_RE.test(text)
      ? 'caption'
      : isCentered(l) && l.size <= bodySize * 1.05 && !cur?.kind.startsWith('caption')
        ? 'equation'
        : LIST_RE.test(text) && (cur?.kind !== 'para' || endsSentence(cur.lines.at(-1)!.text))
          ? 'item'
          : 'para';
    const prev = cur?.lines.at(-1);
    let brk =
      !cur || kind === 'caption' || kind === 'item' || (kind === 'equation') !== (cur.kind === 'equation');
    if (!brk && cur && prev) {
      const below = prev.page === l.page && prev.y > l.y;
      const sameCol = below && Math.abs(prev.colLeft - l.colLeft) < 2;
      // First-line indent: against the line above in the same column (quotes and abstracts are indented
      // as a whole), against the column edge after a column or page break.
      const indent = l.x0 - (sameCol ? Math.min(prev.x0, l.colLeft + 4 * l.size) : l.colLeft);
      // A display equation's lines (limits, fractions in smaller type) stay together.
      if (kind === 'equation' && cur.kind === 'equation') brk = !sameCol || prev.y - l.y > 3 * l.size;
      else if (Math.abs(prev.size - l.size) > 0.6) brk = true;
      else if (below && prev.y - l.y > 1.7 * Math.max(prev.size, l.size) && cur.kind !== 'equation')
        brk = true;
      else if (/^abstract\s*[.:—–-]/i.test(text)) brk = true;
      else if (cur.kind === 'item') {
        // Hanging indent, measured from each line's own column so an item may continue in the next column.
        const first = cur.lines[0]!;
        brk = l.x0 - l.colLeft <= first.x0 - first.colLeft + 0.5 * l.size && !LIST_RE.test(text);
      } else if (cur.kind === 'para' && indent > 0.6 * l.size && indent < 4 * l.size) brk = true;
      else if (cur.kind === 'para' && prev.x1 < prev.colRight - 4 * prev.size && endsSentence(prev.text))
        brk = true;
    }
    if (brk) {
      close();
      cur = { kind: kind === 'para' && prev && cur?.kind === 'caption' ? 'para' : kind, lines: [l] };
    } else cur!.lines.push(l);
  }
  close();
  return blocks;
}

function blockText(lines: Line[], join: Join): string {
  return lines.map((l) => l.text.trim()).reduce(join, '');
}

export function extractAbstract(blocks: Block[], join: Join): string {
  const h = blocks.findIndex((b) => b.kind === 'heading' && /^abstract$/i.test(b.text.replace(/^\W+/, '')));
  if (h >= 0) {
    const parts: string[] = [];
    for (let k = h + 1; k < blocks.length; k++) {
      const b = blocks[k]!;
      if (b.kind === 'heading') break;
      if (b.kind === 'para') parts.push(blockText(b.lines, join));
    }
    return parts.join('\n\n');
  }
  // "Abstract. Text..." or "Abstract—Text" run into the first paragraph.
  for (const [k, b] of blocks.entries()) {
    if (b.kind === 'heading') break;
    if (b.kind !== 'para') continue;
    const t = blockText(b.lines, join);
    const m = /^abstract\s*[.:—–-]\s*(.+)$/is.exec(t);
    if (m) {
      blocks.splice(k, 1, { kind: 'heading', text: 'Abstract', level: 1 }, { kind: 'para', lines: b.lines });
      return m[1]!.trim();
    }
  }
  return '';
}

export function renderBlocks(blocks: Block[], join: Join): string[] {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'heading':
        out.push(`${'#'.repeat(Math.min(6, b.level + 1))} ${b.text}`);
        break;
      case 'para': {
        const t = blockText(b.lines, join).replace(/^abstract\s*[.:—–-]\s*/i, '');
        out.push(t);
        break;
      }
      case 'footnote':
        out.push(`> ${blockText(b.lines, join)}`);
        break;
      case 'caption': {
        const t = blockText(b.lines, join);
        const m = CAPTION_RE.exec(t);
        out.push(m ? `**${m[0].trim()}** ${t.slice(m[0].length).trim()}` : t);
        break;
      }
      case 'item': {
        const t = blockText(b.lines, join);
        const m = LIST_RE.exec(t)!;
        const marker = m[1]!;
        const rest = t.slice(m[0].length);
        if (/^\d/.test(marker)) out.push(`${marker.replace(')', '.')} ${rest}`);
        else if (/^[[(]/.test(marker)) out.push(`${marker} ${rest}`);
        else out.push(`- ${rest}`);
        break;
      }
      case 'equation':
        out.push(`\`\`\`\n${b.lines.map((l) => l.text.trim()).join('\n')}\n\`\`\``);
        break;
      case 'table': {
        const w = Math.max(...b.rows.map((r) => r.length));
        const cell = (s: string) => s.replace(/\|/g, '\\|');
        const row = (r: string[]) =>
          `| ${Array.from({ length: w }, (_, k) => cell(r[k] ?? '')).join(' | ')} |`;
        out.push([row(b.rows[0]!), `|${' --- |'.repeat(w)}`, ...b.rows.slice(1).map(row)].join('\n'));
        break;
      }
    }
  }
  // Consecutive list items belong to one list: no blank line between them.
  return out.reduce<string[]>((acc, s, k) => {
    const prev = blocks[k - 1];
    if (k > 0 && prev?.kind === 'item' && blocks[k]!.kind === 'item') acc[acc.length - 1] += `\n${s}`;
    else acc.push(s);
    return acc;
  }, []);
}
