import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  expandedBefore,
  indexAt,
  offsetOf,
  pagesCovering,
  type TimelineLayout,
  toggleSorted,
  totalHeight,
  visibleRange,
} from '../../../../webview-ui/progress/windowing';

const layout = (total: number, expanded: number[] = []): TimelineLayout => ({
  rowHeight: 24,
  detailHeight: 260,
  total,
  expanded,
});

test('fixed rows: offsets, total height and the row under a pixel', () => {
  const l = layout(100_000);
  assert.equal(offsetOf(l, 0), 0);
  assert.equal(offsetOf(l, 10), 240);
  assert.equal(totalHeight(l), 2_400_000);
  assert.equal(indexAt(l, 0), 0);
  assert.equal(indexAt(l, 23), 0);
  assert.equal(indexAt(l, 24), 1);
  assert.equal(indexAt(l, 2_399_999), 99_999);
  assert.equal(indexAt(l, 10_000_000), 99_999, 'clamped to the last row');
  assert.equal(indexAt(layout(0), 50), -1);
});

test('expanded rows push the rows after them down by the detail height', () => {
  const l = layout(1000, [5, 20]);
  assert.equal(expandedBefore(l.expanded, 5), 0);
  assert.equal(expandedBefore(l.expanded, 6), 1);
  assert.equal(expandedBefore(l.expanded, 21), 2);
  assert.equal(offsetOf(l, 5), 120);
  assert.equal(offsetOf(l, 6), 144 + 260);
  assert.equal(offsetOf(l, 21), 21 * 24 + 520);
  assert.equal(totalHeight(l), 1000 * 24 + 520);
  // A pixel inside row 5's detail panel belongs to row 5.
  assert.equal(indexAt(l, 120 + 24 + 100), 5);
  assert.equal(indexAt(l, offsetOf(l, 6)), 6);
  // Round trip for every row.
  for (let i = 0; i < 1000; i += 7) assert.equal(indexAt(l, offsetOf(l, i)), i);
});

test('the visible range has a bounded size whatever the total', () => {
  for (const total of [10, 1000, 100_000, 1_000_000]) {
    const l = layout(total);
    const top = Math.floor(totalHeight(l) / 2);
    const r = visibleRange(l, top, 600, 10);
    assert.ok(r.end - r.start <= Math.ceil(600 / 24) + 1 + 20, `${total}: ${r.end - r.start} rows`);
    assert.ok(r.start >= 0 && r.end <= total);
  }
  assert.deepEqual(visibleRange(layout(5), 0, 600, 10), { start: 0, end: 5 });
  assert.deepEqual(visibleRange(layout(0), 0, 600, 10), { start: 0, end: 0 });
  const end = visibleRange(layout(100_000), 2_400_000 - 600, 600, 10);
  assert.equal(end.end, 100_000);
  assert.equal(end.start, 100_000 - 25 - 10);
});

test('pages covering a range, and toggling expanded rows', () => {
  assert.deepEqual(pagesCovering(0, 0, 200), []);
  assert.deepEqual(pagesCovering(0, 1, 200), [0]);
  assert.deepEqual(pagesCovering(190, 410, 200), [0, 1, 2]);
  assert.deepEqual(pagesCovering(400, 600, 200), [2]);
  assert.deepEqual(toggleSorted([], 5), [5]);
  assert.deepEqual(toggleSorted([1, 9], 5), [1, 5, 9]);
  assert.deepEqual(toggleSorted([1, 5, 9], 5), [1, 9]);
});
