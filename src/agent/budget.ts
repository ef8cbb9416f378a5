/**
 * Time budget (active time only; pauses excluded), KLong's staged goals, periodic reminders, the
 * soft "wrap up" and hard deadlines; and a spend cap that pauses the session and asks.
 */
import type { Stage } from '../events/events';

export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

export interface StageSpec {
  stage: Stage;
  /** The stage lasts until this fraction of the budget. */
  until: number;
  goal: string;
}

export const defaultStages: StageSpec[] = [
  {
    stage: 'understand',
    until: 0.05,
    goal: 'Read the paper (read_paper) and the workspace; list what must be reproduced.',
  },
  {
    stage: 'plan',
    until: 0.1,
    goal: 'Write a plan with update_plan: components, experiments, metrics, order of work.',
  },
  {
    stage: 'implement',
    until: 0.6,
    goal: 'Implement the method and experiments; test small pieces as you go.',
  },
  {
    stage: 'run',
    until: 0.8,
    goal: 'Run the experiments (at reduced scale if needed) and record the results.',
  },
  {
    stage: 'reproduce',
    until: 0.92,
    goal: 'Write reproduce.sh that regenerates every result from a clean checkout into reproduce.log; run it once.',
  },
  {
    stage: 'final-check',
    until: 1,
    goal: 'Compare results with the paper, fix gaps, document what was and was not reproduced, then call end_task.',
  },
];

export interface BudgetConfig {
  totalMs: number;
  /** A reminder every N steps (0 = never). */
  reminderEverySteps: number;
  /** Fraction of the budget after which the agent is asked to wrap up. */
  softFraction: number;
  stages: StageSpec[];
}

export const defaultBudgetConfig: BudgetConfig = {
  totalMs: 12 * 3600_000,
  reminderEverySteps: 10,
  softFraction: 0.9,
  stages: defaultStages,
};

export interface BudgetSnapshot {
  activeMs: number;
  softWarned: boolean;
  stage: Stage;
}

export class TimeBudget {
  readonly config: BudgetConfig;
  private accumulated: number;
  private runningSince: number | undefined;
  private softWarned: boolean;
  private lastStage: Stage;

  constructor(
    config: Partial<BudgetConfig> = {},
    private readonly clock: Clock = systemClock,
    from?: BudgetSnapshot,
  ) {
    this.config = { ...defaultBudgetConfig, ...config };
    this.accumulated = from?.activeMs ?? 0;
    this.softWarned = from?.softWarned ?? false;
    this.lastStage = from?.stage ?? this.config.stages[0]!.stage;
  }

  get running(): boolean {
    return this.runningSince !== undefined;
  }

  /** Start or resume counting active time. */
  start(): void {
    this.runningSince ??= this.clock.now();
  }

  /** Stop counting (pause, stop, waiting for the user). */
  pause(): void {
    if (this.runningSince === undefined) return;
    this.accumulated += this.clock.now() - this.runningSince;
    this.runningSince = undefined;
  }

  activeMs(): number {
    return this.accumulated + (this.runningSince === undefined ? 0 : this.clock.now() - this.runningSince);
  }

  remainingMs(): number {
    return Math.max(0, this.config.totalMs - this.activeMs());
  }

  fraction(): number {
    return this.activeMs() / this.config.totalMs;
  }

  stageSpec(): StageSpec {
    const f = this.fraction();
    return this.config.stages.find((s) => f < s.until) ?? this.config.stages[this.config.stages.length - 1]!;
  }

  /** The current stage if it changed since the last call (for a `stage` event). */
  stageChange(): StageSpec | undefined {
    const s = this.stageSpec();
    if (s.stage === this.lastStage) return undefined;
    this.lastStage = s.stage;
    return s;
  }

  get stage(): Stage {
    return this.lastStage;
  }

  hardDeadlinePassed(): boolean {
    return this.activeMs() >= this.config.totalMs;
  }

  /** "2h 10m elapsed out of 12h" */
  describe(): string {
    return `${formatDuration(this.activeMs())} elapsed out of ${formatDuration(this.config.totalMs)}`;
  }

  /** The reminder for this step, if one is due. */
  reminder(step: number): string | undefined {
    const n = this.config.reminderEverySteps;
    if (n <= 0 || step === 0 || step % n !== 0) return undefined;
    const s = this.stageSpec();
    return `Info: ${this.describe()}. Stage: ${s.stage}. Goal now: ${s.goal}`;
  }

  /** The wrap-up message, once, when the soft deadline passes. */
  wrapUp(): string | undefined {
    if (this.softWarned || this.fraction() < this.config.softFraction) return undefined;
    this.softWarned = true;
    const left = formatDuration(Math.max(0, this.config.totalMs - this.activeMs()));
    return `Warning: only ${left} of the time budget left (${this.describe()}). Wrap up now: make sure reproduce.sh runs end to end, write down what was and was not reproduced, and call end_task. At the deadline the session ends and reproduce.sh is run as is.`;
  }

  snapshot(): BudgetSnapshot {
    return { activeMs: this.activeMs(), softWarned: this.softWarned, stage: this.lastStage };
  }
}

/** Spend cap in USD and/or tokens; 0 or undefined = no cap. */
export interface SpendCap {
  usd?: number;
  tokens?: number;
}

export interface SpendTotals {
  usd: number;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
}

/**
 * The cap after the user allows `moreUsd` more at the cap: counted from what is spent now, so each
 * approval buys the same amount again (a cap raised from the configured one would stop at once).
 */
export function raiseSpendCap(spent: SpendTotals, moreUsd: number): SpendCap {
  return { usd: spent.usd + moreUsd };
}

/** Why the cap stops the session, or undefined while under it. */
export function overSpendCap(t: SpendTotals, cap: SpendCap): string | undefined {
  if (cap.usd && t.usd >= cap.usd) return `spend cap reached: $${t.usd.toFixed(2)} of $${cap.usd.toFixed(2)}`;
  const tokens = t.promptTokens + t.completionTokens;
  if (cap.tokens && tokens >= cap.tokens) return `token cap reached: ${tokens} of ${cap.tokens} tokens`;
  return undefined;
}

export function formatDuration(ms: number): string {
  const totalMin = Math.floor(ms / 60_000);
  const h = Math.floor(totalMin / 60);
  const m = totalMin % 60;
  if (h === 0) return ms < 60_000 ? `${Math.floor(ms / 1000)}s` : `${m}m`;
  return m === 0 ? `${h}h` : `${h}h ${m}m`;
}

/** "12h", "90m", "1h30m", "1.5h", "45s" → ms. Throws with the accepted forms on bad input. */
export function parseDuration(text: string): number {
  const m = /^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s)?\s*$/.exec(text);
  if (!m || (!m[1] && !m[2] && !m[3]))
    throw new Error(`Not a duration: "${text}". Use e.g. 12h, 90m, 1h30m or 45s.`);
  return Math.round((Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 1000);
}
