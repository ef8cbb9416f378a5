import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  AGGREGATED,
  aggregate,
  countLeaves,
  type GradedNode,
  gradeTree,
  loadRubric,
  parseRubric,
  RubricError,
  type RubricNode,
  rubricStats,
  rubricSummary,
  serializeRubric,
} from '../../../../src/paper';
import { FIXTURES, fixturesSkip } from '../../../support/fixtures';

const pbDir = join(FIXTURES, 'paperbench');
const noFixtures = fixturesSkip(pbDir);

// From ../shared/fixtures/paperbench/README.md ("Tree statistics").
const TABLE = {
  'semantic-self-consistency': { nodes: 100, leaves: 77, depth: 5, root: 6, dev: 50, exec: 21, res: 6 },
  'self-expansion': { nodes: 363, leaves: 253, depth: 7, root: 7, dev: 70, exec: 159, res: 24 },
  'self-composing-policies': { nodes: 357, leaves: 275, depth: 6, root: 6, dev: 151, exec: 96, res: 28 },
};

for (const [id, want] of Object.entries(TABLE)) {
  test(`PaperBench rubric ${id}: loads, round-trips byte for byte, statistics match the README`, {
    skip: noFixtures,
  }, async () => {
    const path = join(pbDir, id, 'rubric.json');
    const rubric = await loadRubric(path);
    assert.equal(serializeRubric(rubric), await readFile(path, 'utf8'));
    assert.equal(countLeaves(rubric), want.leaves);
    const s = rubricStats(rubric);
    assert.deepEqual(
      [
        s.nodes,
        s.leaves,
        s.depth,
        s.rootChildren,
        s.byCategory['Code Development'],
        s.byCategory['Code Execution'],
        s.byCategory['Result Analysis'],
      ],
      [want.nodes, want.leaves, want.depth, want.root, want.dev, want.exec, want.res],
    );
  });
}

function leaf(id: string, weight: number, cat: RubricNode['task_category'] = 'Code Development'): RubricNode {
  return {
    id,
    requirements: `leaf ${id}`,
    weight,
    sub_tasks: [],
    task_category: cat,
    finegrained_task_category: null,
  };
}
function node(id: string, weight: number, subs: RubricNode[]): RubricNode {
  return {
    id,
    requirements: `node ${id}`,
    weight,
    sub_tasks: subs,
    task_category: null,
    finegrained_task_category: null,
  };
}

test('errors name the path of the bad node', () => {
  const bad = node('r', 1, [
    leaf('a', 1),
    leaf('b', 1),
    node('c', 1, [{ ...leaf('d', 1), weight: 'heavy' as unknown as number }]),
  ]);
  assert.throws(
    () => parseRubric(bad, 'x.json'),
    (e: unknown) => {
      assert.ok(e instanceof RubricError);
      assert.match(e.message, /^x\.json: invalid rubric/);
      assert.deepEqual(e.problems, ['sub_tasks[2].sub_tasks[0].weight: expected number, received string']);
      return true;
    },
  );
  const badCat = node('r', 1, [{ ...leaf('a', 1), task_category: 'Coding' as RubricNode['task_category'] }]);
  assert.throws(() => parseRubric(badCat), /sub_tasks\[0\]\.task_category: /);
  assert.throws(
    () => parseRubric('{"id": ', 'broken.json'),
    /broken\.json: invalid rubric .*\n.*not valid JSON/,
  );
  assert.throws(() => parseRubric({ ...leaf('a', -1) }), /\(root\)|weight/);
});

test('loadRubric: missing file is a clear error', async () => {
  await assert.rejects(
    loadRubric('/nonexistent/rubric.json'),
    /\/nonexistent\/rubric\.json: rubric file not found/,
  );
});

test('aggregation: hand-computed weighted means, zero-weight siblings, all-zero weights', () => {
  // root = (3*A + 1*B + 0*C) / 4 with A = (2*1 + 1*0 + 1*1)/4 = 0.75, B = 0 (weights sum to 0), C = 1
  const rubric = node('root', 1, [
    node('A', 3, [leaf('a1', 2), leaf('a2', 1), leaf('a3', 1)]),
    node('B', 1, [leaf('b1', 0), leaf('b2', 0)]),
    node('C', 0, [leaf('c1', 5)]),
  ]);
  const scores: Record<string, number> = { a1: 1, a2: 0, a3: 1, b1: 1, b2: 1, c1: 1 };
  const g = gradeTree(rubric, (l) => ({
    score: scores[l.id]!,
    valid_score: true,
    explanation: 'x',
    judge_metadata: null,
  }));
  assert.equal(g.sub_tasks[0]!.score, 0.75);
  assert.equal(g.sub_tasks[1]!.score, 0);
  assert.equal(g.sub_tasks[2]!.score, 1);
  assert.equal(g.score, (3 * 0.75 + 1 * 0 + 0 * 1) / 4);
  assert.equal(g.score, 0.5625);
  assert.equal(g.explanation, AGGREGATED);
  assert.deepEqual(Object.keys(g), [
    'id',
    'requirements',
    'weight',
    'score',
    'valid_score',
    'task_category',
    'finegrained_task_category',
    'explanation',
    'judge_metadata',
    'sub_tasks',
  ]);
});

test('aggregation reproduces PaperBench judge_eval expected_result.json root score from its leaves', {
  skip: noFixtures,
}, async () => {
  const expected = JSON.parse(
    await readFile(join(pbDir, 'semantic-self-consistency', 'judge_eval', 'expected_result.json'), 'utf8'),
  ) as GradedNode;
  // Blank every internal score, then recompute from the leaves only.
  const blank = (n: GradedNode): GradedNode => ({
    ...n,
    ...(n.sub_tasks.length ? { score: -1 } : {}),
    sub_tasks: n.sub_tasks.map(blank),
  });
  const again = aggregate(blank(expected));
  assert.equal(again.score, expected.score);
  assert.equal(again.score, 0.9099999999999999);
  const cmp = (a: GradedNode, b: GradedNode) => {
    assert.equal(a.score, b.score, a.id);
    a.sub_tasks.forEach((c, i) => {
      cmp(c, b.sub_tasks[i]!);
    });
  };
  cmp(again, expected);
});

test('rubricSummary fits its budget, whole when it can, cut by depth when it cannot', {
  skip: noFixtures,
}, async () => {
  const r = await loadRubric(join(pbDir, 'self-expansion', 'rubric.json'));
  const big = rubricSummary(r, 1_000_000);
  assert.match(
    big,
    /^Rubric: 253 gradable requirements \(70 code development, 159 code execution, 24 result analysis\)/,
  );
  assert.equal(big.split('\n').length, 1 + 363);
  for (const max of [20_000, 4_000, 600]) {
    const s = rubricSummary(r, max);
    assert.ok(s.length <= max, `${s.length} > ${max}`);
    assert.match(s, /^Rubric: 253/);
  }
  assert.match(rubricSummary(r, 4_000), /\[\+\d+ sub-requirements\]/);
});
