/**
 * The early-end check's answer to the agent: unmet requirements by their share of the score
 * (weights along the path, not the leaf's own weight alone), bounded in length, with how many
 * were left out; met and not-judged leaves are not listed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  earlyEndMessage,
  type GradedNode,
  type GradeResult,
  gradeTree,
  parseRubric,
  type RubricNode,
} from '../../../../src/paper';
import { leafNode } from '../../../support/rubrics';

const group = (id: string, weight: number, subs: RubricNode[]): RubricNode => ({
  ...leafNode(id, weight),
  task_category: null,
  requirements: `group ${id}`,
  sub_tasks: subs,
});

function result(root: GradedNode): GradeResult {
  const leaves: GradedNode[] = [];
  const walk = (n: GradedNode) => (n.sub_tasks.length ? n.sub_tasks.forEach(walk) : leaves.push(n));
  walk(root);
  return {
    paperTitle: 'P',
    model: 'm',
    score: root.score,
    root,
    leaves: leaves.length,
    passed: leaves.filter((l) => l.score === 1).length,
    invalid: leaves.filter((l) => !l.valid_score).length,
    cachedLeaves: 0,
    decided: [],
    promptTokens: 0,
    completionTokens: 0,
    flags: { blacklist: [] },
    flagged: false,
    gradedAt: '',
  };
}

test('unmet requirements come by share of the score; met and not-judged ones are left out', () => {
  // a: weight 1 of 4 at the root, split in 2 → 12.5% each; b: weight 3 of 4, one leaf of weight 5 beside weight 1.
  const rubric = parseRubric(
    group('root', 1, [
      group('a', 1, [
        leafNode('a1', 1, 'Code Development', 'A1 small'),
        leafNode('a2', 1, 'Code Development', 'A2 met'),
      ]),
      group('b', 3, [
        leafNode('b1', 1, 'Result Analysis', 'B1 light leaf of a heavy group'),
        leafNode('b2', 5, 'Code Execution', 'B2 broken judge'),
      ]),
    ]),
  );
  const g = result(
    gradeTree(rubric, (leaf) => ({
      score: leaf.id === 'a2' ? 1 : 0,
      valid_score: leaf.id !== 'b2',
      explanation: `reason of ${leaf.id}`,
      judge_metadata: null,
    })),
  );
  // b2 is left out of the score: b counts b1 only (0), a counts 0.5 → (1*0.5 + 3*0) / 4.
  assert.equal(g.score, 0.125);
  const text = earlyEndMessage({
    grade: g,
    target: 1,
    check: 2,
    limit: 3,
    budgetUsed: 0.2,
    ranReproduce: false,
  });
  assert.match(
    text,
    /early-end check 2 of 3\): 20% of the time budget is used and the submission scores 13% .*target 100%/,
  );
  assert.match(text, /did not run reproduce\.sh/);
  assert.match(text, /1 requirement\(s\) could not be judged and are left out of the score/);
  assert.match(text, /Unmet requirements \(2 of 4;/);
  const b1 = text.indexOf(
    '[13%] B1 light leaf of a heavy group (Result Analysis, weight 1). Judge: reason of b1',
  );
  const a1 = text.indexOf('[13%] A1 small');
  assert.ok(b1 > 0 && a1 > 0, text);
  assert.doesNotMatch(text, /A2 met|B2 broken/);
});

test('the answer stays within its bound and says how many were left out', () => {
  const rubric = parseRubric(
    group(
      'root',
      1,
      Array.from({ length: 200 }, (_, i) =>
        leafNode(`l${i}`, 1 + (i % 7), 'Code Development', `Requirement ${i} ${'x'.repeat(500)}`),
      ),
    ),
  );
  const g = result(
    gradeTree(rubric, () => ({
      score: 0,
      valid_score: true,
      explanation: 'y'.repeat(1000),
      judge_metadata: null,
    })),
  );
  const text = earlyEndMessage({
    grade: g,
    target: 1,
    check: 3,
    limit: 3,
    budgetUsed: 0.4,
    ranReproduce: true,
    maxChars: 4000,
  });
  assert.ok(text.length <= 4000, `${text.length} characters`);
  assert.match(text, /The next end_task is accepted whatever the score\./);
  assert.doesNotMatch(text, /did not run reproduce\.sh/);
  const shown = text.match(/^\d+\. \[/gm)!.length;
  assert.ok(shown >= 3);
  assert.match(text, new RegExp(`… and ${200 - shown} more with smaller shares\\.$`));
  // Heaviest first: weight 7 leaves (i % 7 === 6) lead.
  assert.match(text, /\n1\. \[\d+(\.\d)?%\] Requirement 6 x/);
});
