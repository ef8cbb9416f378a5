import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { OpenAIModelClient } from '../../../../src/llm/openai-client';
import {
  paperFromMarkdown,
  parseRubric,
  type ReproductionRunner,
  runReproduction,
} from '../../../../src/paper';
import { reply, startModelServer } from '../../../support/model-server';
import { reproduceAndGrade } from '../../../support/reproduce-grade';

/** A real runner: bash in a directory, process group killed at the time limit. */
function dirRunner(cwd: string): ReproductionRunner {
  return {
    run: (command, timeoutMs) =>
      new Promise((resolve) => {
        const child = spawn('bash', ['-c', command], { cwd, detached: true });
        let output = '';
        let timedOut = false;
        child.stdout.on('data', (d) => (output += d));
        child.stderr.on('data', (d) => (output += d));
        const timer = setTimeout(() => {
          timedOut = true;
          process.kill(-child.pid!, 'SIGKILL');
        }, timeoutMs);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ exitCode: timedOut ? null : code, output, timedOut });
        });
      }),
  };
}

test('runReproduction: log captured (stdout+stderr) into reproduce.log; failures and timeouts noted', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'repro-'));
  const none = await runReproduction(dirRunner(dir), { timeoutMs: 5000 });
  assert.equal(none.ran, false);
  assert.match(none.log, /reproduce\.sh not found/);

  await writeFile(join(dir, 'reproduce.sh'), 'echo "mean=0.497"\necho "warn: slow" >&2\nexit 3\n');
  const failed = await runReproduction(dirRunner(dir), { timeoutMs: 5000 });
  assert.equal(failed.exitCode, 3);
  assert.match(failed.log, /mean=0\.497\nwarn: slow\n\n\[reproduce\.sh exited with code 3\]/);
  assert.equal(await readFile(join(dir, 'reproduce.log'), 'utf8'), 'mean=0.497\nwarn: slow\n');

  await writeFile(join(dir, 'reproduce.sh'), 'echo started\nsleep 30\necho never\n');
  const slow = await runReproduction(dirRunner(dir), { timeoutMs: 500 });
  assert.equal(slow.timedOut, true);
  assert.match(slow.log, /started\n[\s\S]*stopped at the time limit/);
  assert.doesNotMatch(slow.log, /never/);
});

test('reproduceAndGrade: the judge of a Code Execution leaf sees the fresh reproduce.log', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'repro-'));
  await writeFile(join(dir, 'reproduce.sh'), 'echo "bootstrap std=0.069"\n');
  const s = await startModelServer([reply('{"score": 1, "explanation": "log shows std=0.069"}')]);
  try {
    const rubric = parseRubric({
      id: 'r',
      requirements: 'root',
      weight: 1,
      task_category: null,
      finegrained_task_category: null,
      sub_tasks: [
        {
          id: 'l',
          requirements: 'The bootstrap runs.',
          weight: 1,
          sub_tasks: [],
          task_category: 'Code Execution',
          finegrained_task_category: null,
        },
      ],
    });
    const { reproduction, grade } = await reproduceAndGrade(dirRunner(dir), {
      timeoutMs: 10_000,
      client: new OpenAIModelClient({ baseURL: s.url, apiKey: 'k', model: 'm', maxRetries: 0 }),
      paper: paperFromMarkdown('# P\n\n## Method\n\nBootstrap.\n', 'p.md'),
      rubric,
      files: [],
    });
    assert.equal(reproduction.exitCode, 0);
    assert.equal(grade.score, 1);
    const prompt = s.requests[0]!.messages[1]!.content!;
    assert.match(prompt, /# reproduce\.sh\n\n```bash\necho "bootstrap std=0\.069"/);
    assert.match(prompt, /# reproduce\.log[^\n]*\n\n```\nbootstrap std=0\.069/);
  } finally {
    await s.close();
  }
});
