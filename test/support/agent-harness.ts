/**
 * Wires a real AgentSession to the scripted model server (real HTTP) and a DirSandbox, keeping
 * every event in memory and a snapshot at each step end, so tests can check requests, files,
 * events and resume. Test-only.
 */

import { type BudgetConfig, type Clock, TimeBudget } from '../../src/agent/budget';
import { type ContextConfig, ContextManager } from '../../src/agent/context';
import { buildHead } from '../../src/agent/context/head';
import { AgentSession, type AgentSessionDeps, type SessionState } from '../../src/agent/loop';
import { defaultSystemPrompt, defaultTask } from '../../src/agent/prompt';
import type { PaperReader } from '../../src/agent/tools';
import type { AgentEventBody } from '../../src/events/events';
import { type OpenAIClientOptions, OpenAIModelClient } from '../../src/llm/openai-client';
import { estimateCounter } from '../../src/llm/tokens';
import type { Paper } from '../../src/paper/types';
import { DirSandbox } from './dir-sandbox';
import { type ModelServer, type ModelServerOptions, type Script, startModelServer } from './model-server';

export const PAPER_MD = `# Tiny Paper\n\n## Abstract\n\nWe show that printing hello works.\n\n## 1 Method\n\nPrint "hello" and a number.\n\n## 2 Experiments\n\nRun hello.py; expect "hello 42".\n`;

export function tinyPaper(): Paper {
  const md = PAPER_MD;
  const s1 = md.indexOf('## 1 Method');
  const s2 = md.indexOf('## 2 Experiments');
  return {
    title: 'Tiny Paper',
    authors: ['T. Tester'],
    abstract: 'We show that printing hello works.',
    markdown: md,
    sections: [
      { id: '1', title: 'Method', level: 2, start: s1, end: s2 },
      { id: '2', title: 'Experiments', level: 2, start: s2, end: md.length },
    ],
    source: 'tiny.md',
  };
}

export const tinyReader: PaperReader = {
  section: (id) => {
    const p = tinyPaper();
    const s = p.sections.find((x) => x.id === id);
    return s ? p.markdown.slice(s.start, s.end) : undefined;
  },
  search: (q) => `1. [2] Experiments: …${q}…`,
  index: () => '[1] Method\n[2] Experiments',
};

export interface Harness {
  server: ModelServer;
  sandbox: DirSandbox;
  events: AgentEventBody[];
  /** (state, number of events it includes) at each step end. */
  snapshots: { state: SessionState; events: number }[];
  session: AgentSession;
  deps: AgentSessionDeps;
  freshContext: () => ContextManager;
  close(): Promise<void>;
}

export interface HarnessOptions {
  script: Script;
  server?: ModelServerOptions;
  files?: Record<string, string>;
  context?: Partial<ContextConfig>;
  budget?: Partial<BudgetConfig>;
  clock?: Clock;
  client?: Partial<OpenAIClientOptions>;
  deps?: Partial<AgentSessionDeps>;
  /** Reuse a sandbox (resume tests). */
  sandbox?: DirSandbox;
}

export async function startHarness(o: HarnessOptions): Promise<Harness> {
  const server = await startModelServer(o.script, o.server);
  const sandbox = o.sandbox ?? (await DirSandbox.create(o.files));
  const events: AgentEventBody[] = [];
  const snapshots: Harness['snapshots'] = [];
  const model = new OpenAIModelClient({
    baseURL: server.url,
    apiKey: 'sk-test',
    model: 'test-model',
    baseDelayMs: 20,
    // Long enough that a slow machine does not mistake a normal reply for a stall.
    stallTimeoutMs: 2000,
    ...o.client,
  });
  const budget = new TimeBudget({ totalMs: 3600_000, reminderEverySteps: 4, ...o.budget }, o.clock);
  const freshContext = () =>
    new ContextManager(
      buildHead(
        {
          systemPrompt: defaultSystemPrompt(sandbox.workdir),
          task: defaultTask({ paperTitle: 'Tiny Paper', budgetMs: budget.config.totalMs, rubric: false }),
          paper: tinyPaper(),
          blacklist: ['github.com/tiny/official'],
        },
        estimateCounter,
      ),
      estimateCounter,
      o.context,
    );
  let session!: AgentSession;
  const deps: AgentSessionDeps = {
    sandbox,
    model,
    budget,
    paper: tinyReader,
    sink: (e) => events.push(structuredClone(e)),
    isBlocked: (c) =>
      c.includes('github.com/tiny/official') ? 'the official code is blacklisted' : undefined,
    prices: { input: 2, cachedInput: 0.5, output: 8 },
    maxSteps: 60,
    onStepEnd: () => {
      snapshots.push({ state: structuredClone(session.snapshot()), events: events.length });
    },
    ...o.deps,
  };
  session = new AgentSession(deps, freshContext());
  return {
    server,
    sandbox,
    events,
    snapshots,
    session,
    deps,
    freshContext,
    close: async () => {
      await server.close();
      if (!o.sandbox) await sandbox.dispose();
    },
  };
}

/** The head (system + first user message) of a recorded request, as JSON text. */
export function headOf(req: { messages: unknown[] }): string {
  return JSON.stringify(req.messages.slice(0, 2));
}

export function typesOf(events: AgentEventBody[]): string[] {
  return events.map((e) => e.type);
}
