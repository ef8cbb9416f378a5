/**
 * Turns positioned text items into reading-order lines: rows by baseline, cells split at wide gaps,
 * two-column pages read left column then right, margin notes and running headers/footers dropped.
 */
import type { PdfPage, TextItem } from './items';

export interface Cell {
  x0: number;
  x1: number;
  text: string;
}

export interface Line {
  page: number;
  text: string;
  x0: number;
  x1: number;
  /** Baseline of the dominant text. */
  y: number;
  /** Dominant font size and font (by characters). */
  size: number;
  font: string;
  /** Text of the line without raised small items (superscript markers). */
  plain: string;
  cells: Cell[];
  /** Left edge of the column the line belongs to, and its right edge. */
  colLeft: number;
  colRight: number;
}

interface Row {
  items: TextItem[];
  minY: number;
  maxY: number;
  maxSize: number;
}

/** Body font size and font: the ones carrying the most characters. */
export function dominantStyle(pages: PdfPage[]): { size: number; font: string } {
  const bySize = new Map<number, number>();
  const byFont = new Map<string, number>();
  for (const p of pages)
    for (const it of p.items) {
      const s = Math.round(it.size * 2) / 2;
      bySize.set(s, (bySize.get(s) ?? 0) + it.str.length);
      byFont.set(it.font, (byFont.get(it.font) ?? 0) + it.str.length);
    }
  return { size: argmax(bySize) ?? 10, font: argmax(byFont) ?? '' };
}

function argmax<K>(m: Map<K, number>): K | undefined {
  let best: K | undefined;
  let n = -1;
  for (const [k, v] of m)
    if (v > n) {
      best = k;
      n = v;
    }
  return best;
}

/** Left edge of the text block; items wholly left of it are margin notes when they are few. */
function bodyLeftEdge(pages: PdfPage[], bodySize: number): number | undefined {
  const starts = new Map<number, number>();
  let total = 0;
  for (const p of pages)
    for (const it of p.items) {
      total += it.str.length;
      if (Math.abs(it.size - bodySize) > 0.6) continue;
      const x = Math.round(it.x);
      starts.set(x, (starts.get(x) ?? 0) + it.str.length);
    }
  const left = argmax(starts);
  if (left === undefined) return undefined;
  let outside = 0;
  for (const p of pages) for (const it of p.items) if (it.x + it.width < left - 3) outside += it.str.length;
  return outside < 0.15 * total ? left : undefined;
}

function joinItems(items: TextItem[]): string {
  let out = '';
  let prev: TextItem | undefined;
  for (const it of items) {
    if (prev) {
      const gap = it.x - (prev.x + prev.width);
      if (gap > 0.15 * Math.min(prev.size, it.size) && !/\s$/.test(out) && !/^\s/.test(it.str)) out += ' ';
    }
    out += it.str;
    prev = it;
  }
  return out.replace(/\s+/g, ' ').trim();
}

function buildRows(items: TextItem[]): Row[] {
  const sorted = [...items].sort((a, b) => b.y - a.y || a.x - b.x);
  const rows: Row[] = [];
  let cur: Row | undefined;
  for (const it of sorted) {
    const tol = 0.45 * Math.max(it.size, cur?.maxSize ?? 0);
    if (cur && cur.minY - it.y <= tol) {
      cur.items.push(it);
      cur.minY = Math.min(cur.minY, it.y);
      cur.maxSize = Math.max(cur.maxSize, it.size);
    } else {
      cur = { items: [it], minY: it.y, maxY: it.y, maxSize: it.size };
      rows.push(cur);
    }
  }
  return rows;
}

/** Cells of a row: items split at gaps wider than ~1 em, and at the column gutter `cut` when given. */
function splitCells(items: TextItem[], cut?: number): { cells: Cell[]; groups: TextItem[][] } {
  const byX = [...items].sort((a, b) => a.x - b.x);
  const groups: TextItem[][] = [];
  let end = Number.NEGATIVE_INFINITY;
  for (const it of byX) {
    const last = groups[groups.length - 1];
    const acrossGutter = cut !== undefined && end <= cut + 1 && it.x >= cut - 1 && it.x - end > 1;
    if (last && it.x - end <= 0.9 * it.size && !acrossGutter) last.push(it);
    else groups.push([it]);
    end = Math.max(end, it.x + it.width);
  }
  const cells = groups.map((g) => ({
    x0: Math.min(...g.map((i) => i.x)),
    x1: Math.max(...g.map((i) => i.x + i.width)),
    text: joinItems(g),
  }));
  return { cells, groups };
}

function makeLine(page: number, groups: TextItem[][], cells: Cell[], col: [number, number]): Line {
  const items = groups.flat();
  const sizes = new Map<number, number>();
  const fonts = new Map<string, number>();
  const ys = new Map<number, number>();
  for (const it of items) {
    const n = it.str.trim().length;
    sizes.set(it.size, (sizes.get(it.size) ?? 0) + n);
    fonts.set(it.font, (fonts.get(it.font) ?? 0) + n);
    ys.set(it.y, (ys.get(it.y) ?? 0) + n);
  }
  const size = argmax(sizes) ?? 10;
  const y = argmax(ys) ?? 0;
  const raised = (it: TextItem) => it.size < 0.85 * size && it.y > y + 0.15 * size;
  const plain = groups
    .map((g) => joinItems(g.filter((i) => !raised(i))))
    .filter(Boolean)
    .join(' ');
  return {
    page,
    text: cells.map((c) => c.text).join(' '),
    x0: cells[0]?.x0 ?? 0,
    x1: cells[cells.length - 1]?.x1 ?? 0,
    y,
    size,
    font: argmax(fonts) ?? '',
    plain,
    cells,
    colLeft: col[0],
    colRight: col[1],
  };
}

/**
 * The x of the gap between two columns: in the middle third of the page, the position crossed by the
 * fewest text rows (column layouts are rarely centred on the page: LaTeX margins are not symmetric).
 * Clean when far fewer rows cross it than fill either column (a title block above may cross it): then
 * it splits rows even where the gap is narrow (LaTeX: 10 pt).
 */
function findGutter(items: TextItem[], width: number): { x: number; clean: boolean } {
  const bins = new Float64Array(Math.ceil(width) + 1);
  const rows = new Map<number, TextItem[]>();
  for (const it of items) {
    const y = Math.round(it.y);
    if (!rows.has(y)) rows.set(y, []);
    rows.get(y)!.push(it);
  }
  const mark = new Uint8Array(bins.length);
  for (const row of rows.values()) {
    mark.fill(0);
    for (const it of row) {
      const to = Math.min(bins.length - 1, Math.ceil(it.x + it.width));
      for (let x = Math.max(0, Math.floor(it.x)); x <= to; x++) mark[x] = 1;
    }
    for (let x = 0; x < bins.length; x++) bins[x]! += mark[x]!;
  }
  const lo = Math.floor(width * 0.35);
  const hi = Math.ceil(width * 0.65);
  let best = width / 2;
  let bestCover = Number.POSITIVE_INFINITY;
  for (let x = lo; x <= hi; x++) {
    const cover = bins[x]!;
    // Prefer the centre of the emptiest run, and the page middle on ties.
    if (cover < bestCover || (cover === bestCover && Math.abs(x - width / 2) < Math.abs(best - width / 2))) {
      bestCover = cover;
      best = x;
    }
  }
  let a = best;
  let b = best;
  while (a - 1 >= lo && bins[a - 1] === bestCover) a--;
  while (b + 1 <= hi && bins[b + 1] === bestCover) b++;
  let leftPeak = 0;
  let rightPeak = 0;
  for (let x = Math.floor(width * 0.05); x < a; x++) leftPeak = Math.max(leftPeak, bins[x]!);
  for (let x = b + 1; x < Math.min(bins.length, Math.ceil(width * 0.95)); x++)
    rightPeak = Math.max(rightPeak, bins[x]!);
  return { x: (a + b) / 2, clean: bestCover <= 0.35 * Math.min(leftPeak, rightPeak) };
}

/** Reading-order lines of the whole document, without margin notes and running headers/footers. */
export function layoutLines(pages: PdfPage[]): Line[] {
  const body = dominantStyle(pages);
  const left = bodyLeftEdge(pages, body.size);
  const lines: Line[] = [];
  pages.forEach((page, pi) => {
    for (const line of pageLines(page, pi + 1, left)) lines.push(line);
  });
  return dropRunningHeaders(lines, pages);
}

/** A row of text items with its cells. */
type SplitRow = { row: Row } & ReturnType<typeof splitCells>;

/** One page's lines in reading order: one column, or two read band by band. */
function pageLines(page: PdfPage, pageNumber: number, left: number | undefined): Line[] {
  const items = page.items.filter(
    (it) => it.str.trim() !== '' && (left === undefined || it.x + it.width >= left - 3),
  );
  const gutter = findGutter(items, page.width);
  const mid = gutter.x;
  const cut = gutter.clean ? mid : undefined;
  const rows: SplitRow[] = buildRows(items).map((r) => ({ row: r, ...splitCells(r.items, cut) }));
  let l = 0;
  let r = 0;
  let span = 0;
  for (const row of rows)
    for (const c of row.cells) {
      const n = c.text.length;
      if (c.x1 <= mid + 2) l += n;
      else if (c.x0 >= mid - 2) r += n;
      else span += n;
    }
  const total = l + r + span || 1;
  const twoCol = l > 0.2 * total && r > 0.2 * total && span < 0.4 * total;
  if (twoCol) return twoColumnLines(pageNumber, rows, mid, cut);
  const all = rows.flatMap((row) => row.cells);
  const col = all.length ? extent(all) : ([0, page.width] as [number, number]);
  if (left !== undefined) col[0] = Math.max(col[0], left);
  return rows.map((row) => makeLine(pageNumber, row.groups, row.cells, col));
}

const extent = (cs: Cell[]): [number, number] => [
  Math.min(...cs.map((c) => c.x0)),
  Math.max(...cs.map((c) => c.x1)),
];

/** A two-column page: full-width rows cut it into bands; each band reads left column, then right column. */
function twoColumnLines(pageNumber: number, rows: SplitRow[], mid: number, cut: number | undefined): Line[] {
  const lines: Line[] = [];
  // The x where most text of each column starts and ends (modes, so stray items do not move them).
  const mode = (side: (c: Cell) => boolean, edge: (c: Cell) => number) => {
    const m = new Map<number, number>();
    for (const row of rows)
      for (const c of row.cells)
        if (side(c)) m.set(Math.round(edge(c)), (m.get(Math.round(edge(c))) ?? 0) + c.text.length);
    return argmax(m) ?? Number.NaN;
  };
  const isLeft = (c: Cell) => c.x1 <= mid + 2;
  const isRight = (c: Cell) => c.x0 >= mid - 2;
  const leftCol: [number, number] = [mode(isLeft, (c) => c.x0), mode(isLeft, (c) => c.x1)];
  const rightCol: [number, number] = [mode(isRight, (c) => c.x0), mode(isRight, (c) => c.x1)];
  const atColumnStart = (c: Cell) => Math.abs(c.x0 - leftCol[0]) < 4 || Math.abs(c.x0 - rightCol[0]) < 4;
  // Full-width rows: text across the gutter, or a row on both sides that neither column's text
  // starts (author names and affiliations spread over the page under the title).
  const full: Row[] = [];
  const leftItems: TextItem[] = [];
  const rightItems: TextItem[] = [];
  // The spread-row rule only applies above the first column text of the page (title block).
  let columnsStarted = false;
  for (const row of rows) {
    const spanning =
      row.cells.some((c) => c.x0 < mid - 2 && c.x1 > mid + 2) ||
      (!columnsStarted &&
        row.cells.some(isLeft) &&
        row.cells.some(isRight) &&
        !row.cells.some(atColumnStart));
    if (!spanning && row.cells.some(atColumnStart)) columnsStarted = true;
    if (spanning) full.push(row.row);
    else for (const it of row.row.items) (it.x + it.width / 2 < mid ? leftItems : rightItems).push(it);
  }
  // Each column gets its own rows, so baselines of one column never pull in the other's.
  const colRows = (its: TextItem[]) => buildRows(its).map((r) => ({ r, ...splitCells(r.items, cut) }));
  const lRows = colRows(leftItems);
  const rRows = colRows(rightItems);
  // Full-width rows cut the page into bands; each band reads left column, then right column.
  const band = (r: Row) => full.filter((f) => f.minY > r.maxY).length;
  for (let b = 0; b <= full.length; b++) {
    for (const x of lRows) if (band(x.r) === b) lines.push(makeLine(pageNumber, x.groups, x.cells, leftCol));
    for (const x of rRows) if (band(x.r) === b) lines.push(makeLine(pageNumber, x.groups, x.cells, rightCol));
    const f = full[b];
    if (f) {
      const sc = splitCells(f.items, cut);
      lines.push(makeLine(pageNumber, sc.groups, sc.cells, extent(sc.cells)));
    }
  }
  return lines;
}

/** Lines repeated at the top or bottom of many pages (digits ignored), and bare page numbers. */
function dropRunningHeaders(lines: Line[], pages: PdfPage[]): Line[] {
  const inMargin = (ln: Line) => {
    const h = pages[ln.page - 1]?.height ?? 792;
    return ln.y > h * 0.9 || ln.y < h * 0.1;
  };
  const key = (ln: Line) => ln.text.replace(/\d+/g, '#').replace(/\s+/g, ' ').trim().toLowerCase();
  const seen = new Map<string, Set<number>>();
  for (const ln of lines) {
    if (!inMargin(ln)) continue;
    const k = key(ln);
    if (!seen.has(k)) seen.set(k, new Set());
    seen.get(k)!.add(ln.page);
  }
  const minPages = Math.max(2, Math.ceil(0.4 * pages.length));
  // A bare number that is the lowest or highest line of its page is the page number.
  const lowest = new Map<number, number>();
  const highest = new Map<number, number>();
  for (const ln of lines) {
    lowest.set(ln.page, Math.min(lowest.get(ln.page) ?? Infinity, ln.y));
    highest.set(ln.page, Math.max(highest.get(ln.page) ?? -Infinity, ln.y));
  }
  return lines.filter((ln) => {
    const bare = /^[\W\d]{0,3}\d{1,4}[\W]{0,3}$/.test(ln.text.trim());
    if (bare && (ln.y === lowest.get(ln.page) || ln.y === highest.get(ln.page))) return false;
    if (!inMargin(ln)) return true;
    return (seen.get(key(ln))?.size ?? 0) < minPages;
  });
}
