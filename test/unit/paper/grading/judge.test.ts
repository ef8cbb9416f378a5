/**
 * Structured judging over real HTTP to the scripted server: the judge asks for strict JSON through
 * response_format (json_schema); an endpoint that refuses it (a 400 naming it) is asked again
 * without it, and that client does not send it again; an answer that cannot be parsed after the
 * retries is recorded invalid (valid_score false) and left out of the score, with the report saying so.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { OpenAIModelClient } from '../../../../src/llm/openai-client';
import {
  buildJudgeMessages,
  DEFAULT_BUDGETS,
  type GradedNode,
  gradeSubmission,
  gradeToJson,
  PaperIndex,
  paperFromMarkdown,
  parseRubric,
  type RubricNode,
  renderReport,
  UNPARSEABLE,
} from '../../../../src/paper';
import { JUDGE_ATTEMPTS, judge } from '../../../../src/paper/grading/judge';
import {
  type ChatBody,
  faults,
  reply,
  type ScriptStep,
  startModelServer,
} from '../../../support/model-server';
import { leafNode } from '../../../support/rubrics';

const PAPER = paperFromMarkdown('# P\n\n## Method\n\nThe bootstrap error is 0.07.\n', 'p.md');
const FILES = [{ path: 'bootstrap.py', content: 'def bootstrap(): ...\n' }];
const LEAF = leafNode('dev', 1, 'Code Development', 'bootstrap.py implements the bootstrap.');

const client = (url: string) =>
  new OpenAIModelClient({ baseURL: url, apiKey: 'k', model: 'judge', maxRetries: 2, stream: false });

function prompt() {
  return buildJudgeMessages({
    paperTitle: 'P',
    index: new PaperIndex(PAPER),
    leaf: LEAF,
    ancestors: [],
    files: FILES,
    reproduceSh: undefined,
    reproduceLog: undefined,
    budgets: DEFAULT_BUDGETS,
  });
}

test('the judge asks for strict JSON through response_format and reads the structured answer', async () => {
  const s = await startModelServer([reply('{"explanation": "bootstrap.py has it.", "score": 1}')]);
  try {
    const v = await judge(client(s.url), prompt(), undefined);
    assert.deepEqual([v.score, v.valid, v.attempts], [1, true, 1]);
    const rf = s.requests[0]!.response_format as {
      type: string;
      json_schema: { strict: boolean; schema: { required: string[]; additionalProperties: boolean } };
    };
    assert.equal(rf.type, 'json_schema');
    assert.equal(rf.json_schema.strict, true);
    assert.deepEqual(rf.json_schema.schema.required, ['explanation', 'score']);
    assert.equal(rf.json_schema.schema.additionalProperties, false);
  } finally {
    await s.close();
  }
});

test('an endpoint that refuses response_format is asked again without it, and the client remembers', async () => {
  const s = await startModelServer([
    faults.badRequest(
      "Unsupported parameter: 'response_format' is not supported with this model.",
      'response_format',
    ),
    reply('Sure. Here is my grade:\n```json\n{"score": 0, "explanation": "no bootstrap loop"}\n```'),
    reply('{"score": 1, "explanation": "now it is there"}'),
  ]);
  try {
    const c = client(s.url);
    const v = await judge(c, prompt(), undefined);
    assert.deepEqual(
      [v.score, v.valid, v.explanation],
      [0, true, 'no bootstrap loop'],
      'the text parser reads it',
    );
    assert.ok(s.requests[0]!.response_format, 'asked for structured output first');
    assert.equal(s.requests[1]!.response_format, undefined, 'asked again without it');
    const again = await judge(c, prompt(), undefined);
    assert.equal(again.score, 1);
    assert.equal(s.requests.length, 3, 'no second 400: the same client does not send response_format again');
    assert.equal(s.requests[2]!.response_format, undefined);
    assert.deepEqual(s.served, ['bad_request', 'reply', 'reply']);

    // Another 400 (not about response_format) is not taken for a refusal of it.
    const other = await startModelServer([faults.badRequest('messages: too many images')]);
    try {
      await assert.rejects(judge(client(other.url), prompt(), undefined), /too many images/);
      assert.equal(other.requests.length, 1);
    } finally {
      await other.close();
    }
  } finally {
    await s.close();
  }
});

test('an answer that cannot be parsed after the retries is invalid: left out of the score, shown as not judged', async () => {
  const rubric = parseRubric({
    ...leafNode('root', 1),
    task_category: null,
    sub_tasks: [
      leafNode('dev', 1, 'Code Development', 'bootstrap.py implements the bootstrap.'),
      leafNode('res', 3, 'Code Development', 'HARD: the estimator is unbiased.'),
    ],
  } satisfies RubricNode);
  const asked: string[] = [];
  const s = await startModelServer((req: ChatBody): ScriptStep => {
    const r = /# Requirement to grade\n\n(.*)/.exec(String(req.messages[1]!.content))![1]!;
    asked.push(r);
    return r.startsWith('HARD')
      ? reply('I think it probably passes, mostly.') // never JSON
      : reply('{"explanation": "bootstrap.py has it.", "score": 1}');
  });
  const cacheDir = await mkdtemp(join(tmpdir(), 'klong-judge-'));
  try {
    const g = await gradeSubmission({ client: client(s.url), paper: PAPER, rubric, files: FILES, cacheDir });
    assert.equal(asked.filter((a) => a.startsWith('HARD')).length, JUDGE_ATTEMPTS);
    const hard = g.root.sub_tasks[1]!;
    assert.equal(hard.valid_score, false);
    assert.ok(hard.explanation.startsWith(UNPARSEABLE), hard.explanation);
    assert.equal(g.invalid, 1);
    // Not (1*1 + 3*0) / 4 = 25%: the leaf that could not be judged is not counted.
    assert.equal(g.score, 1);
    const json = JSON.parse(gradeToJson(g)) as GradedNode;
    assert.equal(json.valid_score, false, 'the root is not valid when a leaf is not (PaperBench)');
    assert.equal(json.sub_tasks[1]!.valid_score, false);
    const report = renderReport(g);
    assert.match(report, /\*\*⚠ 1 requirement\(s\) could not be judged\*\*.*left out of the score/);
    assert.match(report, /HARD: the estimator is unbiased\. \| Code Development \| 3 \| ⚠ not judged \|/);
    assert.equal(
      (await readdir(cacheDir)).length,
      1,
      'an invalid answer is not cached: a regrade asks again',
    );
  } finally {
    await s.close();
  }
});
