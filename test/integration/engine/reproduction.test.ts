/**
 * The engine's `Reproduction` driven through its own API (no CLI): a real container (network none,
 * the test image), the scripted model server over real HTTP, the session folder on disk. What the
 * front ends rely on: the session folder and its events, the end (final run → grade → report
 * proposed), an interrupt that a resume continues, a rejected key that loses nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DirUserFiles } from '../../../src/edits';
import {
  type NewSession,
  Reproduction,
  type RunHooks,
  type RunSettings,
} from '../../../src/engine/reproduction';
import type { AgentEvent } from '../../../src/events/events';
import { FatalModelError } from '../../../src/llm/types';
import { SessionStore } from '../../../src/session';
import { PAPER_MD } from '../../support/agent-harness';
import { dockerProblem, removeContainers, skipUnlessRequired } from '../../support/docker';
import {
  type ChatBody,
  call,
  faults,
  type ModelServer,
  reply,
  type Script,
  startModelServer,
  tools,
} from '../../support/model-server';
import { leafNode } from '../../support/rubrics';

const IMAGES = [process.env.KLONG_CLI_TEST_IMAGE, 'klong/python-min:bookworm', 'klong/python:bookworm'];
const IMAGE = IMAGES.find((i) => i && spawnSync('docker', ['image', 'inspect', i]).status === 0);
const skip = skipUnlessRequired(
  dockerProblem() || (IMAGE ? false : `none of ${IMAGES.filter(Boolean).join(', ')} is present`),
);
if (skip) console.log(`# ${skip}; skipped`);

// Every container of this file (the sessions' and the final runs') carries this label.
const LABEL = 'klong.test-engine-reproduction';
const TAG = `${process.pid}-${Date.now().toString(36)}`;
const KEY = 'sk-engine-test-key';
const temps: string[] = [];
const servers: ModelServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  removeContainers(`${LABEL}=${TAG}`);
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

function temp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

async function server(script: Script): Promise<ModelServer> {
  const s = await startModelServer(script, { apiKey: KEY });
  servers.push(s);
  return s;
}

/** The agent's requests carry its tools; the judge's do not. */
const isAgent = (req: ChatBody) => !!req.tools?.some((t) => t.function.name === 'end_task');

/** A session's files: workspace with a README, state folder, the tiny paper, a one-leaf rubric. */
function newSession(name: string): { stateDir: string; from: NewSession & { sessionId: string } } {
  const workspace = temp('klong-eng-ws-');
  writeFileSync(join(workspace, 'README.md'), '# Reproduction\n');
  const dir = temp('klong-eng-in-');
  writeFileSync(join(dir, 'paper.md'), PAPER_MD);
  const root = {
    ...leafNode('root', 1),
    requirements: 'The paper is reproduced.',
    task_category: null,
    sub_tasks: [leafNode('runs', 1, 'Code Execution', 'Running hello.py prints "hello 42".')],
  };
  writeFileSync(join(dir, 'rubric.json'), JSON.stringify(root));
  return {
    stateDir: temp('klong-eng-state-'),
    from: {
      paper: join(dir, 'paper.md'),
      workspace,
      rubric: join(dir, 'rubric.json'),
      sessionId: `eng-${name}-${TAG}`,
    },
  };
}

function settings(stateDir: string, url: string, more: Partial<RunSettings> = {}): RunSettings {
  return {
    stateDir,
    model: { baseUrl: url, apiKey: KEY, name: 'test-model', contextLimit: 128_000 },
    budgetMs: 3600_000,
    network: 'none',
    image: IMAGE!,
    labels: { [LABEL]: TAG },
    finalTimeoutMs: 120_000,
    ...more,
  };
}

/** Hooks that keep what the front end is given; the user's files are the workspace folder. */
function recorder() {
  const events: AgentEvent[] = [];
  const said: string[] = [];
  const warnings: string[] = [];
  const hooks: RunHooks = {
    say: (m) => said.push(m),
    onEvent: (e) => events.push(e),
    onWarning: (m) => warnings.push(m),
    userFiles: (ws) => new DirUserFiles(ws),
  };
  return { hooks, events, said, warnings };
}

function logged(stateDir: string, id: string): AgentEvent[] {
  return readFileSync(join(stateDir, id, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AgentEvent);
}

const HELLO = 'print("hello", 6 * 7)\n';

describe('Reproduction (engine API, real container)', { skip }, () => {
  test('a new session: its folder, run.json and events; end_task → final run → grade → REPRODUCTION.md proposed', async () => {
    const { stateDir, from } = newSession('end');
    const judged: ChatBody[] = [];
    const agentSteps = [
      tools(call('write_file', { path: 'hello.py', content: HELLO })),
      tools(call('write_file', { path: 'reproduce.sh', content: 'python3 hello.py\n' })),
      tools(call('end_task', { summary: 'hello 42 reproduced' })),
    ];
    let step = 0;
    const s = await server((req) => {
      if (isAgent(req)) return agentSteps[step++] ?? reply('out of script');
      judged.push(req);
      return reply('{"score": 1, "explanation": "reproduce.log shows hello 42."}');
    });
    const r = recorder();
    let graded: number | undefined;
    const run = await Reproduction.open(settings(stateDir, s.url), from, {
      ...r.hooks,
      onGrade: (g) => {
        graded = g.score;
      },
    });
    try {
      const dir = join(stateDir, from.sessionId);
      assert.equal(run.sessionId, from.sessionId);
      assert.equal(run.live.dir, dir);
      assert.equal(run.paper.title, 'Tiny Paper');
      const saved = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
      assert.equal(saved.paper, from.paper);
      assert.equal(saved.rubric, from.rubric);
      assert.equal(saved.network, 'none');
      assert.equal(saved.approval, 'review', 'a new session reviews its proposals unless told otherwise');
      assert.doesNotMatch(readFileSync(join(dir, 'run.json'), 'utf8'), new RegExp(KEY), 'no key on disk');

      const outcome = await run.run();
      assert.equal(outcome.result.status, 'done');
      assert.equal(outcome.result.reason, 'end_task');
      assert.equal(outcome.score, 1);
      assert.equal(graded, 1);
      assert.equal(outcome.findings, 0);
      assert.equal(outcome.reportPath, join(dir, 'REPRODUCTION.md'));

      // The final run happened in a fresh container and the judge was shown its log.
      assert.match(readFileSync(join(dir, 'final-run.log'), 'utf8'), /hello 42/);
      assert.equal(judged.length, 1);
      assert.match(JSON.stringify(judged[0]!.messages), /hello 42/);
      const report = readFileSync(outcome.reportPath!, 'utf8');
      assert.match(report, /Tiny Paper/);
      assert.match(report, /hello 42 reproduced/);
      assert.equal(JSON.parse(readFileSync(join(dir, 'grade.json'), 'utf8')).score, 1);

      // The end as recorded steps, in order; every event the front end got is the log's, in order.
      const ev = logged(stateDir, from.sessionId);
      const at = (type: string) => ev.findIndex((e) => e.type === type);
      for (const t of ['final_run_started', 'final_run', 'grade_leaf', 'grade', 'end'])
        assert.ok(at(t) >= 0, t);
      assert.ok(at('final_run_started') < at('final_run') && at('final_run') < at('grade_leaf'));
      assert.ok(at('grade_leaf') < at('grade') && at('grade') < at('end'));
      const finalRun = ev[at('final_run')] as Extract<AgentEvent, { type: 'final_run' }>;
      assert.equal(finalRun.exitCode, 0);
      // From the container's start on, the front end got every event of the log, in order.
      const first = ev.findIndex((e) => e.seq === r.events[0]!.seq);
      assert.ok(first >= 0 && first < at('model_request'));
      assert.deepEqual(
        r.events.map((e) => e.seq),
        ev.slice(first).map((e) => e.seq),
      );

      // Review mode: the report is proposed with the agent's files and the final run's reproduce.log;
      // the user's folder is untouched.
      assert.deepEqual(
        run.queue
          .list()
          .map((p) => p.path)
          .sort(),
        ['REPRODUCTION.md', 'hello.py', 'reproduce.log', 'reproduce.sh'],
      );
      assert.equal(existsSync(join(from.workspace, 'REPRODUCTION.md')), false);
      assert.equal(existsSync(join(from.workspace, 'hello.py')), false);
      assert.equal(s.exhausted, 0);
    } finally {
      await run.dispose();
    }
  });

  test("stop('interrupt') leaves a resumable session; the resume reattaches and keeps the proposals", async () => {
    const { stateDir, from } = newSession('int');
    const s1 = await server([
      tools(call('write_file', { path: 'a.txt', content: 'A\n' })),
      tools(call('bash', { command: 'sleep 60' })),
    ]);
    const r1 = recorder();
    let run!: Reproduction;
    const hooks: RunHooks = {
      ...r1.hooks,
      onEvent: (e) => {
        r1.events.push(e);
        // The interrupt comes while a command runs, as a Ctrl-C or a closed window would.
        if (e.type === 'tool_call' && e.name === 'bash') setTimeout(() => run.stop('interrupt'), 500);
      },
    };
    run = await Reproduction.open(settings(stateDir, s1.url, { finalRun: false, grade: false }), from, hooks);
    let out: Awaited<ReturnType<Reproduction['run']>>;
    try {
      out = await run.run();
    } finally {
      await run.dispose();
    }
    assert.equal(out.result.status, 'stopped');
    assert.equal(out.result.reason, 'interrupted');
    const listed = new SessionStore(stateDir).get(from.sessionId);
    assert.ok(listed, 'the session is listed');
    assert.notEqual(listed.status, 'done');
    assert.equal(listed.lock, 'free', 'dispose released the session for a resume');

    const s2 = await server([
      tools(call('bash', { command: 'cat a.txt' })),
      tools(call('end_task', { summary: 'resumed' })),
    ]);
    const r2 = recorder();
    const again = await Reproduction.open(
      settings(stateDir, s2.url, { finalRun: false, grade: false }),
      from.sessionId,
      r2.hooks,
    );
    try {
      assert.equal(again.sandbox.info.reattached, true, 'the same container is used again');
      assert.equal(again.workspace, from.workspace, 'the workspace comes from the session log');
      assert.deepEqual(
        again.queue.list().map((p) => p.path),
        ['a.txt'],
        'the pending proposal is back after the resume',
      );
      const outcome = await again.run();
      assert.equal(outcome.result.status, 'done');
      assert.equal(outcome.result.reason, 'end_task');
      // The resumed agent had the conversation so far: the interrupted command, then its own files.
      assert.match(JSON.stringify(s2.requests[0]!.messages), /sleep 60/);
      assert.equal(
        JSON.stringify(s2.requests[0]!.messages.slice(0, 2)),
        JSON.stringify(s1.requests[0]!.messages.slice(0, 2)),
        'the pinned head survives the resume',
      );
      assert.match(JSON.stringify(s2.requests[1]!.messages.at(-1)), /A\\n\[exit code: 0\]/);
    } finally {
      await again.dispose();
    }
  });

  test('a model 401 stops the run with a clear error and loses nothing: the resume goes on from there', async () => {
    const { stateDir, from } = newSession('auth');
    const s1 = await server([
      tools(call('write_file', { path: 'notes.txt', content: 'kept\n' })),
      faults.unauthorized(),
    ]);
    const r1 = recorder();
    const run = await Reproduction.open(
      settings(stateDir, s1.url, { finalRun: false, grade: false }),
      from,
      r1.hooks,
    );
    let out: Awaited<ReturnType<Reproduction['run']>>;
    try {
      out = await run.run();
    } finally {
      await run.dispose();
    }
    assert.equal(out.result.status, 'stopped');
    assert.ok(out.result.status === 'stopped' && out.result.error instanceof FatalModelError);
    assert.match(out.result.reason, /rejected the API key \(401\)/);
    const log = readFileSync(join(stateDir, from.sessionId, 'events.jsonl'), 'utf8');
    assert.doesNotMatch(log, new RegExp(KEY), 'the key is never in the log');
    const ev = logged(stateDir, from.sessionId);
    assert.ok(ev.some((e) => e.type === 'edit_proposed' && e.proposal.path === 'notes.txt'));
    assert.ok(ev.some((e) => e.type === 'error' && /401/.test(e.message)));

    const s2 = await server([tools(call('end_task', { summary: 'after a new key' }))]);
    const again = await Reproduction.open(
      settings(stateDir, s2.url, { finalRun: false, grade: false }),
      from.sessionId,
      recorder().hooks,
    );
    try {
      assert.deepEqual(
        again.queue.list().map((p) => p.path),
        ['notes.txt'],
      );
      const outcome = await again.run();
      assert.equal(outcome.result.status, 'done');
      assert.match(
        JSON.stringify(s2.requests[0]!.messages),
        /notes\.txt/,
        'the step before the 401 is remembered',
      );
    } finally {
      await again.dispose();
    }
  });
});
