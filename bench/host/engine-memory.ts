/**
 * The engine side of bench/engine-memory.bench.ts, in a process of its own (run with --expose-gc):
 * what a detached engine holds for a long session (the agent loop, its context manager and time
 * budget, the edits queue, the live session writing the event log and snapshots, the control server)
 * plus one ControlClient following every event. The model is the scripted server of the parent
 * process, over real HTTP. Nothing here keeps the events: the client counts them.
 *
 *   node --expose-gc --import tsx bench/host/engine-memory.ts <model base URL> <steps> <at,at,…>
 *
 * Prints one JSON line per checkpoint step: {step, heapUsed, rss, external, ms, …}.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, TimeBudget } from '../../src/agent/budget';
import { ContextManager } from '../../src/agent/context';
import { buildHead } from '../../src/agent/context/head';
import { AgentSession } from '../../src/agent/loop';
import { defaultSystemPrompt, defaultTask } from '../../src/agent/prompt';
import { EngineControl } from '../../src/cli/engine-control';
import { EditQueue } from '../../src/edits/queue';
import { DirUserFiles } from '../../src/edits/user-files';
import { ControlClient } from '../../src/engine/control';
import type { AgentEventBody } from '../../src/events/events';
import { OpenAIModelClient } from '../../src/llm/openai-client';
import { estimateCounter } from '../../src/llm/tokens';
import { SessionStore } from '../../src/session';
import { tinyPaper, tinyReader } from '../../test/support/agent-harness';
import { DirSandbox } from '../../test/support/dir-sandbox';

const [urlArg, stepsArg, atArg] = process.argv.slice(2);
if (!urlArg || !stepsArg || !atArg) throw new Error('usage: engine-memory.ts <url> <steps> <at,at,…>');
const url: string = urlArg;
const STEPS = Number(stepsArg);
const AT = new Set(atArg.split(',').map(Number));

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'klong-bench-mem-'));
  const userWs = join(root, 'workspace');
  const budgetMs = 1000 * 3600_000; // never the deadline: the session ends at maxSteps
  // No fsync of the log (6 ms a step on a busy disk): the same writes and memory, 10k steps sooner.
  const store = new SessionStore(join(root, 'sessions'), { durability: 'none' });
  const live = store.create({
    sessionId: 'mem',
    paperTitle: 'Tiny Paper',
    paperPath: 'tiny.md',
    workspace: userWs,
    model: 'test-model',
    budgetMs,
  });
  const control = new EngineControl(budgetMs);
  await control.open(live);
  const client = await ControlClient.connect(live.dir);
  if (!client) throw new Error('the control server is not reachable');
  let received = 0;
  let lastSeq = -1;
  client.onEvent((e) => {
    received++;
    lastSeq = e.seq;
  });

  const sandbox = await DirSandbox.create({ 'README.md': '# work\n' });
  const emit = (body: AgentEventBody) => control.event(live.append(body));
  let agent!: AgentSession;
  const queue = new EditQueue({
    sandbox,
    user: new DirUserFiles(userWs),
    emit,
    mode: 'review',
    onFeedback: (t) => agent.injectUserMessage(t),
  });
  const budget = new TimeBudget({ totalMs: budgetMs }, systemClock);
  const context = new ContextManager(
    buildHead(
      {
        systemPrompt: defaultSystemPrompt(sandbox.workdir),
        task: defaultTask({ paperTitle: 'Tiny Paper', budgetMs, rubric: false }),
        paper: tinyPaper(),
        blacklist: ['github.com/tiny/official'],
      },
      estimateCounter,
    ),
    estimateCounter,
    // A small window, so the context splits (and summarises) every few dozen steps.
    { contextLimit: 16_000, reserveOutput: 4_096 },
  );
  const model = new OpenAIModelClient({
    baseURL: url,
    apiKey: 'sk-test',
    model: 'test-model',
    baseDelayMs: 20,
    stallTimeoutMs: 30_000,
  });

  /** Waits until the client has every event appended so far (nothing in flight), then measures. */
  async function measure(step: number, t0: number): Promise<void> {
    const want = live.log.count - 1;
    const until = Date.now() + 60_000;
    while (lastSeq < want) {
      if (Date.now() > until) throw new Error(`the client got events up to ${lastSeq} of ${want}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    gc?.();
    await new Promise((r) => setImmediate(r));
    gc?.();
    const m = process.memoryUsage();
    const snap = agent.snapshot();
    console.log(
      JSON.stringify({
        step,
        ms: performance.now() - t0,
        // CPU time of this process: unlike wall time, it hardly depends on the machine's load.
        cpuMs: (() => {
          const c = process.cpuUsage();
          return (c.user + c.system) / 1000;
        })(),
        heapUsed: m.heapUsed,
        rss: m.rss,
        external: m.external,
        events: live.log.count,
        received,
        window: snap.context.window,
        bodyMessages: snap.context.body.length,
        proposals: queue.list().length,
      }),
    );
  }

  const t0 = performance.now();
  agent = new AgentSession(
    {
      sandbox,
      model,
      sink: emit,
      budget,
      paper: tinyReader,
      prices: { input: 2, cachedInput: 0.5, output: 8 },
      afterTool: queue.hook(),
      maxSteps: STEPS,
      onStepEnd: async ({ step, final }) => {
        if (final) live.snapshotNow(agent.snapshot());
        else live.endStep(() => agent.snapshot());
        if (AT.has(step) && !final) await measure(step, t0);
      },
    },
    context,
  );
  const result = await agent.run();
  console.log(JSON.stringify({ result: result.status, reason: result.reason, steps: agent.step }));
  client.dispose();
  await control.close();
  live.close();
  await sandbox.dispose();
  rmSync(root, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
