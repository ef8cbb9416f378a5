/**
 * The engine's side of the early-end check: when a check is due (budget share, limit, off), and the
 * evidence of a run it uses without running reproduce.sh: the agent's last `bash reproduce.sh`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { earlyEndCheck, lastReproduceRun } from '../../../src/engine/early-end';
import type { AgentEvent, AgentEventBody } from '../../../src/events/events';
import { type GradeResult, gradeTree, parseRubric } from '../../../src/paper';
import { leafNode } from '../../support/rubrics';

function pagedLog(bodies: AgentEventBody[]) {
  const events = bodies.map((b, seq) => ({ ...b, seq, ts: seq }) as AgentEvent);
  let reads = 0;
  return {
    get count() {
      return events.length;
    },
    read(from: number, to = events.length) {
      reads++;
      return events.slice(from, to);
    },
    reads: () => reads,
  };
}

const bash = (step: number, id: string, command: string, output: string, ok = true): AgentEventBody[] => [
  { type: 'tool_call', step, callId: id, name: 'bash', args: JSON.stringify({ command }) },
  { type: 'tool_result', step, callId: id, name: 'bash', ok, output, durationMs: 1 },
];

test("the agent's last run of reproduce.sh, read from the end of the log", () => {
  const filler: AgentEventBody[] = Array.from({ length: 1000 }, (_, i) => ({
    type: 'user_message',
    text: `note ${i}`,
  }));
  const log = pagedLog([
    ...bash(1, 'a', 'bash reproduce.sh', 'old run: mean=0.4'),
    ...filler,
    ...bash(5, 'b', 'cd /workspace && bash ./reproduce.sh 2>&1 | tail -n 50', 'mean=0.497'),
    ...bash(6, 'c', 'cat reproduce.sh', '#!/bin/bash\npython run.py'),
    ...bash(7, 'd', 'python -c "print(1)"', '1'),
  ]);
  assert.deepEqual(lastReproduceRun(log), { step: 5, output: 'mean=0.497' });
  assert.equal(log.reads(), 1, 'found in the last page');
  assert.deepEqual(lastReproduceRun(pagedLog([...bash(2, 'x', './reproduce.sh', 'ok')])), {
    step: 2,
    output: 'ok',
  });
  assert.equal(
    lastReproduceRun(pagedLog([...bash(2, 'x', 'less reproduce.sh.bak', 'x'), ...filler])),
    undefined,
  );
});

test('a check is due only early enough, with a rubric setting on, below the limit', async () => {
  const rubric = parseRubric({
    ...leafNode('root', 1),
    task_category: null,
    sub_tasks: [leafNode('a', 1, 'Code Development', 'A'), leafNode('b', 3, 'Code Development', 'B')],
  });
  const root = gradeTree(rubric, (l) => ({
    score: l.id === 'a' ? 1 : 0,
    valid_score: true,
    explanation: `why ${l.id}`,
    judge_metadata: null,
  }));
  let graded = 0;
  const grade = async (): Promise<GradeResult> => {
    graded++;
    return {
      paperTitle: 'P',
      model: 'm',
      score: root.score,
      root,
      leaves: 2,
      passed: 1,
      invalid: 0,
      cachedLeaves: 0,
      decided: [],
      promptTokens: 0,
      completionTokens: 0,
      flags: { blacklist: [] },
      flagged: false,
      gradedAt: '',
    };
  };
  const said: string[] = [];
  const info = (budgetUsed: number, checksDone = 0) => ({
    step: 3,
    callId: 'e',
    checksDone,
    budgetUsed,
    signal: new AbortController().signal,
  });
  const on = { minBudgetUse: 0.5, target: 1, checks: 2 };
  assert.equal(await earlyEndCheck(info(0.6), on, grade, (m) => said.push(m)), undefined, 'late enough');
  assert.equal(await earlyEndCheck(info(0.1), { ...on, minBudgetUse: 0 }, grade, () => {}), undefined, 'off');
  assert.equal(await earlyEndCheck(info(0.1), undefined, grade, () => {}), undefined, 'no settings');
  assert.equal(await earlyEndCheck(info(0.1, 2), on, grade, (m) => said.push(m)), undefined, 'limit reached');
  assert.equal(graded, 0);
  assert.match(said.join('\n'), /all 2 check\(s\) made; the end is accepted/);
  const c = await earlyEndCheck(info(0.1, 1), on, grade, () => {});
  assert.equal(graded, 1);
  assert.deepEqual([c?.check, c?.limit, c?.score, c?.refused, c?.unmet], [2, 2, 0.25, true, 1]);
  assert.match(c!.message!, /B \(Code Development, weight 3\)\. Judge: why b/);
  const met = await earlyEndCheck(info(0.1), { ...on, target: 0.25 }, grade, () => {});
  assert.equal(met?.refused, false, 'a score at the target is enough');
  assert.equal(met?.message, undefined);
});
