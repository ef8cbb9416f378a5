/**
 * Live work on the real engine (real CLI, container, scripted model): a running command's output
 * reaches `klong attach` and every control client while it runs (the command cannot end until the
 * test has seen its output and releases it), bounded however much it prints; a model retry shows
 * its countdown; the final reproduce.sh run streams the same way and grading says "n of N leaves".
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { LIVE_TAIL_CHARS, LIVE_TAIL_LINES, type LiveMessage } from '../../src/agent/live';
import { ControlClient, readControlInfo } from '../../src/engine/control';
import type { AgentEvent } from '../../src/events/events';
import {
  attachCli,
  cliCleanup,
  cliDockerSkip,
  reproduceArgs,
  runCli,
  sessionEvents,
  until,
} from '../support/cli-run';
import { containerIds } from '../support/docker';
import { type ChatBody, call, faults, reply, tools } from '../support/model-server';

const skip = cliDockerSkip();
const cleanup = cliCleanup();

const GO = '/tmp/klong-test-go';
/** Prints a line every 0.5 s until the test releases it (or a minute passes). */
const TICKER = `for i in $(seq 1 120); do echo "tick $i"; [ -e ${GO} ] && { echo released; break; }; sleep 0.5; done`;

/** The waits of this file: a session in a container on a loaded machine. */
const LONG_WAIT = 180_000;

/** Lets the ticker in the container labelled `label` end. */
function release(label: string): void {
  const [id] = containerIds(label);
  assert.ok(id, `a container labelled ${label}`);
  const r = spawnSync('docker', ['exec', id, 'touch', GO]);
  assert.equal(r.status, 0, String(r.stderr));
}

type Arrival = { event: AgentEvent } | { live: LiveMessage };

/** A control client of the engine that records what arrives, in order. */
async function record(dir: string): Promise<{ arrivals: Arrival[]; client: ControlClient }> {
  const client = await ControlClient.connect(dir);
  assert.ok(client, 'the engine serves its control channel');
  const arrivals: Arrival[] = [];
  client.onEvent((event) => arrivals.push({ event }));
  client.onLive((live) => arrivals.push({ live }));
  return { arrivals, client };
}

const outputs = (a: Arrival[], callId: string) =>
  a.flatMap((x) => ('live' in x && x.live.kind === 'output' && x.live.callId === callId ? [x.live] : []));
const resultIndex = (a: Arrival[], callId: string) =>
  a.findIndex((x) => 'event' in x && x.event.type === 'tool_result' && x.event.callId === callId);

/** The engine's resident memory now and at its peak (bytes). */
function engineMemory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

describe('live output, retries and grading progress', { skip }, () => {
  test('a running command streams into attach and control clients before its result; a retry counts down', {
    timeout: 10 * 60_000,
  }, async () => {
    const server = await cleanup.modelServer(
      (_req, i) =>
        i === 0
          ? tools(call('bash', { command: TICKER }, 'c_tick'))
          : i === 1
            ? faults.rateLimit(2)
            : tools(call('end_task', { summary: 'ticked' }, 'c_end')),
      { apiKey: 'sk-test' },
    );
    const s = cleanup.session('live');
    const dir = join(s.stateDir, s.sessionId);
    const started = await runCli([...reproduceArgs(s, server.url), '--no-final-run', '--detach'], {
      killAfterMs: 180_000,
    });
    assert.equal(started.code, 0, started.stderr);
    const info = readControlInfo(dir);
    assert.ok(info);
    cleanup.engine(info.pid);
    const { arrivals, client } = await record(dir);
    const a = attachCli(s.sessionId, s.stateDir);

    // The command cannot end before this: its output reached attach while it ran.
    await until('tick 2 in attach', () => /│ tick 2\n/.test(a.out()), LONG_WAIT);
    assert.ok(!sessionEvents(s.stateDir, s.sessionId).some((e) => e.type === 'tool_result'));
    release(`klong.session=${s.sessionId}`);
    assert.equal(await a.done, 0, a.out());
    client.dispose();

    const out = a.out();
    assert.equal(out.split('│ tick 1\n').length - 1, 1, 'each line printed once');
    assert.match(out, /│ released\n/);
    assert.match(out, /model request failed: retrying in 2 s, attempt 2 of 7 \(429/);
    assert.ok(out.indexOf('│ tick 2') < out.indexOf('│ released'));

    // The control client: output before the result, the last update (done) with the end of the output.
    const live = outputs(arrivals, 'c_tick');
    const result = resultIndex(arrivals, 'c_tick');
    assert.ok(result > 0, 'the tool result arrived');
    const firstTick = arrivals.findIndex(
      (x) => 'live' in x && x.live.kind === 'output' && x.live.text.includes('tick 1'),
    );
    assert.ok(firstTick >= 0 && firstTick < result, 'output arrived before the result');
    assert.ok(
      live.some((m) => !m.done && !m.text.includes('released')),
      'partial output was sent while the command ran',
    );
    const last = live.at(-1)!;
    assert.equal(last.done, true);
    assert.match(last.text, /released\n$/);
    assert.ok(arrivals.indexOf(arrivals.find((x) => 'live' in x && x.live === last)!) < result);
    const retry = arrivals.find((x) => 'live' in x && x.live.kind === 'retry');
    assert.ok(retry && 'live' in retry && retry.live.kind === 'retry');
    assert.deepEqual([retry.live.attempt, retry.live.of], [2, 7]);
    assert.match(retry.live.reason, /^429/);
    // Transient: nothing of it is in the log.
    const logged = readFileSync(join(dir, 'events.jsonl'), 'utf8');
    assert.doesNotMatch(logged, /"kind":"output"|"kind":"retry"/);
  });

  test('a command printing 50 MB: every live message is a bounded tail; the engine does not hold the output', {
    timeout: 10 * 60_000,
  }, async () => {
    const big = 'head -c 50000000 /dev/zero | tr "\\0" x | fold -w 99; echo; echo big-done';
    let pid = 0;
    const peak: number[] = [];
    let connected!: () => void;
    const ready = new Promise<void>((r) => {
      connected = r;
    });
    const server = await cleanup.modelServer(
      (_req, i) => async () => {
        if (i === 0) await ready; // no live message is sent before the test listens
        if (i >= 1) peak.push(engineMemory(pid).hwm);
        return i === 0
          ? tools(call('bash', { command: 'echo warm-up' }, 'c_warm'))
          : i === 1
            ? tools(call('bash', { command: big }, 'c_big'))
            : tools(call('end_task', { summary: 'big output' }, 'c_end'));
      },
      { apiKey: 'sk-test' },
    );
    const s = cleanup.session('live-big');
    const dir = join(s.stateDir, s.sessionId);
    const started = await runCli([...reproduceArgs(s, server.url), '--no-final-run', '--detach'], {
      killAfterMs: 180_000,
    });
    assert.equal(started.code, 0, started.stderr);
    const info = readControlInfo(dir);
    assert.ok(info);
    pid = info.pid;
    cleanup.engine(pid);
    const { arrivals, client } = await record(dir);
    connected();
    await until('the engine to exit', () => !readControlInfo(dir), LONG_WAIT);
    client.dispose();

    const big_ = outputs(arrivals, 'c_big');
    assert.ok(big_.length >= 2, `updates while it ran (${big_.length})`);
    for (const m of big_) {
      assert.ok(m.text.length <= LIVE_TAIL_CHARS, `a message of ${m.text.length} characters`);
      assert.ok(m.text.split('\n').length - 1 <= LIVE_TAIL_LINES);
    }
    const last = big_.at(-1)!;
    assert.equal(last.done, true);
    assert.ok(last.end > 50e6, `the whole output was counted (${last.end})`);
    assert.match(last.text, /big-done\n$/);
    const [before, afterBig] = peak;
    assert.ok(before && afterBig, "the engine's peak memory was read before and after the command");
    const grew = afterBig - before;
    console.log(
      `# 50 MB command: ${big_.length} live messages, largest ${Math.max(...big_.map((m) => m.text.length))} chars; engine peak RSS ${(before / 1e6).toFixed(1)} → ${(afterBig / 1e6).toFixed(1)} MB`,
    );
    assert.ok(
      grew < 40e6,
      `the engine's peak memory grew by ${(grew / 1e6).toFixed(1)} MB for 50 MB of output`,
    );
  });
  test('the final reproduce.sh run streams while it runs; grading says n of N leaves', {
    timeout: 10 * 60_000,
  }, async () => {
    const leaf = (id: string, requirements: string, category: string) => ({
      id,
      requirements,
      weight: 1,
      task_category: category,
      finegrained_task_category: null,
      sub_tasks: [],
    });
    const rubric = join(cleanup.temp('klong-live-rubric-'), 'rubric.json');
    writeFileSync(
      rubric,
      JSON.stringify({
        id: 'root',
        requirements: 'The ticker is reproduced.',
        weight: 1,
        task_category: null,
        finegrained_task_category: null,
        sub_tasks: [
          leaf('dev', 'reproduce.sh prints ticks.', 'Code Development'),
          leaf('exec', 'reproduce.sh runs to the end.', 'Code Execution'),
          leaf('res', 'The log says released.', 'Result Analysis'),
        ],
      }),
    );
    let connected!: () => void;
    const ready = new Promise<void>((r) => {
      connected = r;
    });
    const server = await cleanup.modelServer(
      (req: ChatBody, i) => async () => {
        if (i === 0) await ready;
        if (!req.tools?.length) return reply('{"score": 1, "explanation": "scripted judge"}');
        const done = new Set(req.messages.filter((m) => m.role === 'tool').map((m) => m.tool_call_id));
        return done.has('c_sh')
          ? tools(call('end_task', { summary: 'ticker reproduced' }, 'c_end'))
          : tools(call('write_file', { path: 'reproduce.sh', content: `${TICKER}\n` }, 'c_sh'));
      },
      { apiKey: 'sk-test' },
    );
    const s = cleanup.session('live-final');
    const dir = join(s.stateDir, s.sessionId);
    cleanup.removeLabel(`klong.fresh-of=${s.sessionId}`);
    let stderr = '';
    const run = runCli([...reproduceArgs(s, server.url, { rubric }), '--approval', 'auto-accept'], {
      killAfterMs: 300_000,
      onChild: (c) => c.stderr!.on('data', (b) => (stderr += b)),
    });
    await until('the control channel', () => !!readControlInfo(dir), LONG_WAIT);
    const { arrivals, client } = await record(dir);
    connected();

    // reproduce.sh cannot end before this: its output reached the CLI while it ran.
    await until("the final run's output", () => /reproduce\.sh: tick 2\n/.test(stderr), LONG_WAIT);
    assert.ok(!sessionEvents(s.stateDir, s.sessionId).some((e) => e.type === 'final_run'));
    release(`klong.fresh-of=${s.sessionId}`);
    const r = await run;
    client.dispose();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /reproduce\.sh: released\n/);
    assert.equal(r.stderr.split('reproduce.sh: tick 1\n').length - 1, 1, 'each line printed once');
    assert.match(r.stderr, /grading 1 of 3 leaves/);
    assert.match(r.stderr, /grading 3 of 3 leaves/);

    const final = outputs(arrivals, 'final-reproduction');
    assert.ok(final.some((m) => !m.done && /tick 1/.test(m.text) && !/released/.test(m.text)));
    assert.match(final.at(-1)!.text, /released\n$/);
    const finalRun = arrivals.findIndex((x) => 'event' in x && x.event.type === 'final_run');
    const firstOut = arrivals.findIndex(
      (x) => 'live' in x && x.live.kind === 'output' && x.live.callId === 'final-reproduction',
    );
    assert.ok(firstOut >= 0 && firstOut < finalRun, "the output came before the final run's result");
    const grading = arrivals.flatMap((x) => ('live' in x && x.live.kind === 'grading' ? [x.live] : []));
    assert.deepEqual(
      grading.map((g) => `${g.done}/${g.total}`),
      ['1/3', '2/3', '3/3'],
    );
  });
});
