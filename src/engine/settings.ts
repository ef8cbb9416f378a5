/** What a reproduction run is given: model, budget, sandbox and approval settings, and the front end's hooks. */
import type { SpendCap, SpendTotals } from '../agent/budget';
import type { LiveMessage } from '../agent/live';
import type { ApprovalMode, DecideFn, UserFiles } from '../edits';
import type { AgentEvent } from '../events/events';
import type { Prices } from '../llm/types';
import type { GradeResult } from '../paper';
import type { GpuRequest, Limits } from '../sandbox';
import type { LiveSession } from '../session';

export interface ModelSettings {
  baseUrl: string;
  apiKey: string;
  name: string;
  contextLimit: number;
  /** The user's prices; without them the model's list price (src/llm/prices.ts), if the table knows it. */
  prices?: Prices;
  /** A response silent this long is abandoned and retried (the client's default when absent). */
  stallTimeoutMs?: number;
}

/**
 * The early-end check: an end_task that comes before `minBudgetUse` of the time budget is used is
 * graded against the rubric first, and refused (the agent goes on) while the score is below
 * `target`, at most `checks` times. `minBudgetUse` 0 turns it off.
 */
export interface EarlyEndSettings {
  minBudgetUse: number;
  target: number;
  checks: number;
}

export const DEFAULT_EARLY_END: EarlyEndSettings = { minBudgetUse: 0.5, target: 1, checks: 3 };

/** What a run needs that is not specific to one session. */
export interface RunSettings {
  stateDir: string;
  model: ModelSettings;
  budgetMs: number;
  spendCapUsd?: number;
  /** How proposals are decided; on a resume, absent keeps the session's own mode (new sessions: review). */
  approval?: ApprovalMode;
  network: string;
  image?: string;
  defaultImage?: string;
  /** GPUs for the session's container and the final run (klong.docker.gpus / --gpus); absent: none. */
  gpus?: GpuRequest;
  dockerHost?: string;
  limits?: Limits;
  /** Run reproduce.sh in a fresh container at the end (default true). */
  finalRun?: boolean;
  finalTimeoutMs?: number;
  /** Grade against the rubric at the end (default true when there is a rubric). */
  grade?: boolean;
  maxSteps?: number;
  labels?: Record<string, string>;
  /**
   * The early-end check of a new session (kept in its run.json; absent: no check). On a resume the
   * session's own values are kept, and only `earlyEndOverride` changes them.
   */
  earlyEnd?: EarlyEndSettings;
  earlyEndOverride?: Partial<EarlyEndSettings>;
}

/** A new session: the paper (file, URL or arXiv id) and the workspace folder it is reproduced in. */
export interface NewSession {
  paper: string;
  workspace: string;
  rubric?: string;
  /** Without a rubric file, ask the model for one (saved as rubric.json in the session folder). */
  generateRubric?: boolean;
  blacklist?: string;
  sessionId?: string;
}

export interface RunHooks {
  /** Progress messages for the user (building the container, grading, ...). */
  say(message: string): void;
  /** Every event, once it is in the log. */
  onEvent?(event: AgentEvent): void;
  /**
   * Live work that is not an event: a running command's or the final run's output (a bounded tail,
   * throttled), a model retry's wait, grading progress. Without it these go to `say` as lines.
   */
  onLive?(message: LiveMessage): void;
  /** The session's folder is open and locked by this process (before the container is built). */
  onSessionOpened?(live: LiveSession): Promise<void>;
  /**
   * The user's files: a folder for the CLI, VS Code documents for the extension. A function is given
   * the session's workspace folder (on a resume only the session log knows it).
   */
  userFiles: UserFiles | ((workspace: string) => UserFiles);
  /** `ask-each` mode: the agent waits for this answer. */
  decide?: DecideFn;
  /** The spend cap was reached: a new cap to go on, or undefined to stop (resumable). */
  onSpendCap?(reason: string, totals: SpendTotals): Promise<SpendCap | undefined>;
  onWarning?(message: string): void;
  /** The graded rubric tree (PaperBench's shape), when the session was graded. */
  onGrade?(result: GradeResult): void;
  /** Cancels opening the session's sandbox (pulling and building the default image can take minutes). */
  signal?: AbortSignal;
}
