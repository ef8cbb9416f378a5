/**
 * The rubric loader accepts what PaperBench accepts: repeated ids are a warning, grades are keyed by
 * the node's path; the largest PaperBench shapes load; a checked file's problems carry line/column.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OpenAIModelClient } from '../../../../src/llm/openai-client';
import {
  checkRubricText,
  gradeSubmission,
  gradeTree,
  issueLine,
  paperFromMarkdown,
  parseRubric,
  type RubricNode,
  rubricStats,
  serializeRubric,
  treeWarnings,
} from '../../../../src/paper';
import { gradesOf, rubricView } from '../../../../src/ui/model/rubric-view';
import { type ChatBody, reply, startModelServer } from '../../../support/model-server';
import { leafNode, wideDeepRubric } from '../../../support/rubrics';

const inner = (id: string, weight: number, subs: RubricNode[]): RubricNode => ({
  id,
  requirements: `node ${id}`,
  weight,
  sub_tasks: subs,
  task_category: null,
  finegrained_task_category: null,
});

// Two leaves share id "dup" (as some of PaperBench's published rubrics do), in different subtrees.
const REPEATED = inner('root', 1, [
  inner('A', 1, [leafNode('dup', 1, 'Code Development', 'LDA is implemented')]),
  inner('B', 1, [leafNode('dup', 1, 'Code Development', 'QDA is implemented')]),
]);

test('repeated ids load with a warning naming both places, and zero weights are warned about', () => {
  const r = parseRubric(structuredClone(REPEATED), 'r.json');
  assert.equal(r.sub_tasks.length, 2);
  assert.deepEqual(treeWarnings(r), [
    'sub_tasks[1].sub_tasks[0].id: repeated id dup (also at sub_tasks[0].sub_tasks[0])',
  ]);
  const zero = inner('root', 1, [
    leafNode('a', 0),
    leafNode('b', 2),
    inner('c', 1, [leafNode('c1', 0), leafNode('c2', 0)]),
  ]);
  assert.deepEqual(treeWarnings(parseRubric(zero)), [
    'sub_tasks[0].weight: 0, so this requirement never counts toward the score',
    'sub_tasks[2].sub_tasks: every weight is 0, so this node always scores 0',
  ]);
});

test('what PaperBench TaskNode.from_dict accepts loads: absent categories, float weights, uncategorised leaves', () => {
  const loose = {
    id: 'r',
    requirements: 'root',
    weight: 1,
    task_category: 'Code Development', // on an inner node: PaperBench refuses it, we ignore it
    sub_tasks: [
      { id: 'a', requirements: 'no category fields at all', weight: 0.5, sub_tasks: [] },
      { id: '', requirements: 'empty id', weight: 2, sub_tasks: [], task_category: 'Code Execution' },
    ],
  };
  const r = parseRubric(loose);
  assert.equal(r.sub_tasks[0]!.task_category, null);
  assert.equal(r.sub_tasks[0]!.finegrained_task_category, null);
  assert.equal(r.sub_tasks[0]!.weight, 0.5);
  assert.deepEqual(Object.keys(r.sub_tasks[0]!), [
    'id',
    'requirements',
    'weight',
    'sub_tasks',
    'task_category',
    'finegrained_task_category',
  ]);
  assert.deepEqual(treeWarnings(r), [
    'task_category: Code Development on a node with sub-tasks is ignored (PaperBench refuses it)',
    'sub_tasks[0].task_category: a leaf without a category (Code Development, Code Execution, Result Analysis) is graded as Code Development',
    'sub_tasks[1].id: empty id',
  ]);
  // What PaperBench refuses stays an error: a missing required field, a negative weight.
  assert.throws(
    () => parseRubric({ ...loose, sub_tasks: [{ id: 'x', requirements: 'y', weight: 1 }] }),
    /sub_tasks\[0\]\.sub_tasks: /,
  );
  assert.throws(() => parseRubric({ ...loose, weight: -1 }), /weight: Too small/);
});

test('grades of leaves with the same id stay apart: judged, aggregated and shown by path', async () => {
  const judge = startModelServer((req: ChatBody) =>
    // Pass LDA, fail QDA: both leaves have id "dup".
    reply(
      /Requirement to grade\n\nLDA/.test(req.messages[1]!.content!)
        ? '{"score": 1, "explanation": "lda.py implements it"}'
        : '{"score": 0, "explanation": "no QDA code"}',
    ),
  );
  const s = await judge;
  try {
    const seen: string[] = [];
    const g = await gradeSubmission({
      client: new OpenAIModelClient({
        baseURL: s.url,
        apiKey: 'k',
        model: 'judge',
        maxRetries: 0,
        stream: false,
      }),
      paper: paperFromMarkdown('# P\n\n## 1 Method\n\nLDA and QDA.\n', 'p.md'),
      rubric: parseRubric(structuredClone(REPEATED)),
      files: [{ path: 'lda.py', content: 'def lda(): pass\n' }],
      concurrency: 1,
      onLeaf: (p) => seen.push(`${p.leafPath}=${p.score}`),
    });
    assert.equal(s.requests.length, 2);
    assert.deepEqual(seen.sort(), ['0.0=1', '1.0=0']);
    assert.equal(g.root.sub_tasks[0]!.sub_tasks[0]!.score, 1);
    assert.equal(g.root.sub_tasks[1]!.sub_tasks[0]!.score, 0);
    assert.equal(g.score, 0.5);
    // The progress view's tree: the same split.
    const view = rubricView(REPEATED, gradesOf(g.root));
    assert.equal(view.children[0]!.score, 1);
    assert.equal(view.children[1]!.score, 0);
    assert.equal(view.children[1]!.children[0]!.explanation, 'no QDA code');
    assert.equal(view.score, 0.5);
  } finally {
    await s.close();
  }
});

test('a rubric the size of PaperBench largest (over 1,000 leaves, 10 levels) loads and round-trips', () => {
  const big = wideDeepRubric({ depth: 10, leaves: 1_200 });
  const text = serializeRubric(big);
  const r = parseRubric(text, 'big.json');
  const s = rubricStats(r);
  assert.equal(s.depth, 10);
  assert.equal(s.leaves, 1_200);
  assert.equal(serializeRubric(r), text);
  const checked = checkRubricText(text);
  assert.deepEqual(checked.errors, []);
  assert.ok(checked.rubric);
  // Every leaf graded by its path: 1,200 distinct keys although the generator repeats ids.
  const g = gradeTree(r, (_l, path) => ({
    score: path.endsWith('.0') ? 1 : 0,
    valid_score: true,
    explanation: path,
    judge_metadata: null,
  }));
  const grades = gradesOf(g);
  assert.equal(Object.keys(grades).length, s.nodes);
  assert.ok(checked.warnings.some((w) => /repeated id/.test(w.message)));
});

test('checkRubricText: line and column of a bad value, a missing field, a syntax error', () => {
  const text = serializeRubric(inner('r', 1, [leafNode('a', 1), leafNode('b', 1)])).replace(
    '"weight": 1,\n            "sub_tasks": [],\n            "task_category": "Code Development",\n            "finegrained_task_category": null\n        },\n        {\n            "id": "b"',
    '"weight": 1,\n            "sub_tasks": [],\n            "task_category": "Code Development",\n            "finegrained_task_category": null\n        },\n        {\n            "id": 7',
  );
  const bad = checkRubricText(text);
  assert.equal(bad.rubric, undefined);
  assert.equal(bad.errors.length, 1);
  const e = bad.errors[0]!;
  assert.deepEqual(e.path, ['sub_tasks', 1, 'id']);
  const line = text.split('\n')[e.line - 1]!;
  assert.equal(line.slice(e.column - 1), '7,');
  assert.match(
    issueLine('r.json', e),
    /^r\.json:15:19: sub_tasks\[1\]\.id: expected string, received number$/,
  );

  // A missing field points at the object that lacks it.
  const noWeight = JSON.stringify({ ...leafNode('a', 1), weight: undefined });
  const m = checkRubricText(noWeight);
  assert.equal(m.errors.length, 1);
  assert.deepEqual([m.errors[0]!.line, m.errors[0]!.column], [1, 1]);
  assert.match(m.errors[0]!.message, /expected (int|number)/);

  const broken = '{\n  "id": "r",\n  "weight": 1,,\n}';
  const b = checkRubricText(broken);
  assert.ok(b.errors.length >= 1);
  assert.deepEqual([b.errors[0]!.line, b.errors[0]!.column], [3, 15]);
  assert.match(b.errors[0]!.message, /^not valid JSON: /);
  assert.match(checkRubricText('').errors[0]!.message, /not valid JSON/);
  // A byte-order mark is not an error, and positions stay right after it.
  const bom = checkRubricText(`\uFEFF${serializeRubric(inner('r', 1, [leafNode('a', 1)]))}`);
  assert.deepEqual(bom.errors, []);
  assert.equal(bom.rubric?.sub_tasks[0]?.id, 'a');
});
