/**
 * Windowing math of the timeline: fixed-height rows, plus a fixed-height detail panel under each
 * expanded row. Everything is O(log n) in the number of expanded rows, independent of the total.
 */

export interface TimelineLayout {
  rowHeight: number;
  detailHeight: number;
  total: number;
  /** Expanded row indices, sorted ascending, unique. */
  expanded: readonly number[];
}

/** Number of expanded rows with index < i. */
export function expandedBefore(expanded: readonly number[], i: number): number {
  let lo = 0;
  let hi = expanded.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (expanded[mid]! < i) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Top of row i in pixels. */
export function offsetOf(l: TimelineLayout, i: number): number {
  return i * l.rowHeight + l.detailHeight * expandedBefore(l.expanded, i);
}

export function totalHeight(l: TimelineLayout): number {
  return offsetOf(l, l.total);
}

/** The row under pixel y (clamped to existing rows); -1 when there are no rows. */
export function indexAt(l: TimelineLayout, y: number): number {
  if (l.total === 0) return -1;
  let lo = 0;
  let hi = l.total - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsetOf(l, mid) <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Rows [start, end) to render for a viewport, with `overscan` extra rows on each side. */
export function visibleRange(
  l: TimelineLayout,
  scrollTop: number,
  viewportHeight: number,
  overscan: number,
): { start: number; end: number } {
  if (l.total === 0) return { start: 0, end: 0 };
  const first = indexAt(l, Math.max(0, scrollTop));
  const last = indexAt(l, Math.max(0, scrollTop + viewportHeight - 1));
  return { start: Math.max(0, first - overscan), end: Math.min(l.total, last + 1 + overscan) };
}

/** Page numbers (of `pageSize` rows) that cover rows [start, end). */
export function pagesCovering(start: number, end: number, pageSize: number): number[] {
  if (end <= start) return [];
  const out: number[] = [];
  for (let p = Math.floor(start / pageSize); p * pageSize < end; p++) out.push(p);
  return out;
}

/** Inserts or removes i in a sorted unique array (returns a new array). */
export function toggleSorted(list: readonly number[], i: number): number[] {
  const at = expandedBefore(list, i);
  if (list[at] === i) return [...list.slice(0, at), ...list.slice(at + 1)];
  return [...list.slice(0, at), i, ...list.slice(at)];
}
