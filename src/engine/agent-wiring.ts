/** The agent of a run: its time budget, pinned head, edit queue and prices, wired to the engine's hooks. */
import { systemClock, TimeBudget } from '../agent/budget';
import { ContextManager } from '../agent/context';
import { buildHead } from '../agent/context/head';
import { AgentSession, type SessionState } from '../agent/loop';
import type { EarlyEndCheck } from '../agent/loop-types';
import { defaultSystemPrompt, defaultTask } from '../agent/prompt';
import { EditQueue } from '../edits';
import type { AgentEventBody } from '../events/events';
import { PRICE_TABLE_DATE, pricesFor } from '../llm/prices';
import { estimateCounter } from '../llm/tokens';
import type { ModelClient } from '../llm/types';
import { type Blacklist, createPaperReader } from '../paper';
import type { Paper, RubricNode } from '../paper/types';
import type { DockerSandbox } from '../sandbox';
import type { LiveSession } from '../session';
import type { BlacklistWatch } from './blacklist-watch';
import type { EndCheckInfo } from './early-end';
import { type HistoryKeeper, recordStep } from './rewind';
import { type SavedRun, saveRun } from './session-files';
import type { RunHooks, RunSettings } from './settings';

/** The time budget, with the time a resumed session already used (snapshot, or its summary). */
export function restoreBudget(live: LiveSession, settings: RunSettings): TimeBudget {
  const snapState = live.snapshot?.state as SessionState | undefined;
  const budgetFrom = snapState?.budget
    ? { ...snapState.budget, activeMs: Math.max(snapState.budget.activeMs, live.summary.activeMs) }
    : live.summary.activeMs
      ? { activeMs: live.summary.activeMs, softWarned: false, stage: 'understand' as const }
      : undefined;
  return new TimeBudget({ totalMs: sessionBudgetMs(live, settings) }, systemClock, budgetFrom);
}

/** A session keeps the budget it started with; a new one takes the settings'. */
function sessionBudgetMs(live: LiveSession, settings: RunSettings): number {
  return live.summary.budgetMs || settings.budgetMs;
}

/** What the end of the agent's run does: the engine's, once the Reproduction exists. */
export interface RunEnd {
  finish(summary: string, signal?: AbortSignal): Promise<{ ok: boolean; output: string } | undefined>;
  checkEnd(info: EndCheckInfo): Promise<EarlyEndCheck | undefined>;
}

export interface AgentWiring {
  settings: RunSettings;
  hooks: RunHooks;
  live: LiveSession;
  saved: SavedRun;
  paper: Paper;
  rubric: RubricNode | undefined;
  blacklist: Blacklist;
  model: ModelClient;
  sandbox: DockerSandbox;
  budget: TimeBudget;
  emit: (e: AgentEventBody) => void;
  watch: BlacklistWatch;
  keeper: HistoryKeeper;
  end: RunEnd;
}

/** The agent (restored from the snapshot and the log's tail) and the queue of its proposed edits. */
export function wireAgent(w: AgentWiring): { agent: AgentSession; queue: EditQueue } {
  const { settings, hooks, live, sandbox, emit, watch } = w;
  const budgetMs = sessionBudgetMs(live, settings);
  let agent!: AgentSession;
  const queue = new EditQueue({
    sandbox,
    user: typeof hooks.userFiles === 'function' ? hooks.userFiles(live.summary.workspace) : hooks.userFiles,
    emit,
    mode: w.saved.approval,
    ...(hooks.decide ? { decide: hooks.decide } : {}),
    onFeedback: (t) => agent.injectUserMessage(t),
    onWarning: (m) => hooks.onWarning?.(m),
  });
  // The mode the user switches to mid-session (an `approval_changed` event) is the one a resume starts in.
  const saved = w.saved;
  queue.onDidChange(() => {
    if (queue.mode === saved.approval) return;
    saved.approval = queue.mode;
    saveRun(live, saved);
  });
  const priced = pricesFor(settings.model.name, settings.model.prices);
  if (priced.source === 'unknown')
    hooks.onWarning?.(
      `No price is known for the model ${settings.model.name} (KLong's table is of ${PRICE_TABLE_DATE}): its cost is counted as $0, so the spend cap cannot stop the session. Set klong.model.pricePerMillionTokens (CLI: --price in,cached,out).`,
    );
  const snapState = live.snapshot?.state as SessionState | undefined;
  agent = AgentSession.restore(
    {
      sandbox,
      model: w.model,
      sink: emit,
      budget: w.budget,
      paper: createPaperReader(w.paper),
      isBlocked: (c) => watch.refusal(c),
      ...(priced.prices ? { prices: priced.prices } : {}),
      ...(w.saved.spendCapUsd ? { spendCap: { usd: w.saved.spendCapUsd } } : {}),
      onSpendCap: async (reason, totals) => hooks.onSpendCap?.(reason, totals),
      afterTool: queue.hook(),
      ...(hooks.onLive ? { onLive: (m) => hooks.onLive?.(m) } : {}),
      finalReproduction: (_reason, summary, signal) => w.end.finish(summary, signal),
      checkEnd: (info) => w.end.checkEnd(info),
      onStepEnd: async ({ step, final }) => {
        watch.endStep();
        await recordStep(sandbox, step, emit, hooks.onWarning, w.keeper);
        if (final) live.snapshotNow(agent.snapshot());
        else live.endStep(() => agent.snapshot());
      },
      ...(settings.maxSteps !== undefined ? { maxSteps: settings.maxSteps } : {}),
    },
    {
      ...(snapState ? { state: snapState } : {}),
      tail: live.tail,
      freshContext: () => freshContext(w, budgetMs),
      history: () => [...live.log.iterate(0, live.log.durableCount)],
    },
    estimateCounter,
  );
  return { agent, queue };
}

/** A context that starts with the pinned head: system prompt, task, paper, rubric, blacklist. */
function freshContext(w: AgentWiring, budgetMs: number): ContextManager {
  const { rubric } = w;
  return new ContextManager(
    buildHead(
      {
        systemPrompt: defaultSystemPrompt(w.sandbox.workdir),
        task: defaultTask({ paperTitle: w.paper.title, budgetMs, rubric: !!rubric }),
        paper: w.paper,
        ...(rubric ? { rubric } : {}),
        blacklist: w.blacklist.patterns(),
      },
      estimateCounter,
    ),
    estimateCounter,
    { contextLimit: w.saved.contextLimit },
  );
}
