/**
 * Everything a session does is one of these events. They are the single source of truth for the
 * UI, the checkpoint (session/) and the export: append them, never rewrite them.
 */
import type { ChatMessage, Usage } from '../llm/types';

export type RewindMode = 'code' | 'conversation' | 'both';

export type Stage = 'understand' | 'plan' | 'implement' | 'run' | 'reproduce' | 'final-check';
export type SessionStatus = 'starting' | 'running' | 'paused' | 'stopped' | 'done' | 'failed';

export interface PlanItem {
  text: string;
  status: 'todo' | 'doing' | 'done';
}

export interface ProposalSummary {
  path: string;
  kind: 'add' | 'modify' | 'delete' | 'binary';
  additions: number;
  deletions: number;
  /** An added file with exactly the content of a deleted one is proposed as a rename. */
  renamedFrom?: string;
  /** Why this change needs an explicit accept (it touches what runs on the user's machine). */
  sensitive?: string;
}

/** Event bodies; the log adds `seq` and `ts`. */
export type AgentEventBody =
  | {
      type: 'session_started';
      sessionId: string;
      paperTitle: string;
      paperPath: string;
      workspace: string;
      model: string;
      budgetMs: number;
    }
  | { type: 'status'; status: SessionStatus; reason?: string }
  | { type: 'stage'; stage: Stage }
  | { type: 'model_request'; step: number; window: number; promptTokens: number; messages: number }
  | {
      type: 'model_response';
      step: number;
      message: ChatMessage;
      usage: Usage;
      costUsd: number;
      /** Reasoning the provider returned that does not go back to it (the message carries it when it does). */
      reasoning?: string;
      /** 'summary': the agent summarising its window at a split; not part of the conversation. */
      purpose?: 'summary';
    }
  | { type: 'tool_call'; step: number; callId: string; name: string; args: string }
  | {
      type: 'tool_result';
      step: number;
      callId: string;
      name: string;
      ok: boolean;
      /** Full output (the context gets a capped copy). */
      output: string;
      durationMs: number;
    }
  | { type: 'user_message'; text: string }
  | { type: 'plan'; items: PlanItem[] }
  | { type: 'reminder'; step: number; text: string; activeMs: number }
  | { type: 'split'; step: number; window: number; note: string; keptMessages: number }
  | { type: 'edit_proposed'; step: number; proposal: ProposalSummary }
  | { type: 'edit_decided'; path: string; decision: 'accepted' | 'rejected'; reason?: string }
  /** The agent put the file back as it was: the proposal is gone without a decision. */
  | { type: 'edit_withdrawn'; step: number; path: string }
  /** The user switched how proposals reach their files (review, ask-each, auto-accept), mid-session. */
  | { type: 'approval_changed'; mode: 'review' | 'auto-accept' | 'ask-each' }
  /** The container workspace after `step`, as a commit of the shadow git (only when files changed). */
  | { type: 'checkpoint'; step: number; commit?: string }
  /**
   * The user went back to `toStep`: the code (workspace = that step's commit), the conversation
   * (the agent's context as after that step), or both. Later steps stay in the log as an abandoned branch.
   */
  | {
      type: 'rewind';
      toStep: number;
      mode: RewindMode;
      /** The step the conversation was at when rewound. */
      fromStep: number;
      /** The commit the workspace was restored to (code and both). */
      commit?: string;
    }
  /**
   * The session's container was gone at a resume: a new one was created and (restored) its files
   * were put back from the host history to the commit of `step`.
   */
  | { type: 'sandbox_recreated'; step: number; restored: boolean; commit?: string; message: string }
  | { type: 'error'; message: string; fatal: boolean }
  /** The agent started a background job (job_start): it runs in the container, output in its log there. */
  | { type: 'job_started'; step: number; jobId: string; name: string; command: string }
  /**
   * A background job ended: exited (exit code), stopped (job_stop or the session stopped), or lost
   * (its process or the whole container was gone at a resume). `tail`: its last lines, capped.
   */
  | {
      type: 'job_ended';
      jobId: string;
      /** The job's name (as in its job_started), so a reader of the log's end needs nothing earlier. */
      name?: string;
      state: 'exited' | 'stopped' | 'lost';
      exitCode: number | null;
      durationMs?: number;
      tail?: string;
    }
  /** reproduce.sh started in a fresh container (the end of the session). */
  | { type: 'final_run_started'; timeoutMs: number }
  /**
   * reproduce.sh finished: its result, and its output in `logFile` (in the session folder). A
   * resume after a crash uses it instead of running reproduce.sh again.
   */
  | {
      type: 'final_run';
      ran: boolean;
      exitCode: number | null;
      timedOut: boolean;
      durationMs: number;
      logFile: string;
    }
  /** One rubric requirement graded (`done` of `total`). */
  | {
      type: 'grade_leaf';
      leafId: string;
      /** The leaf's place in the rubric tree (ids may repeat); absent in logs of older versions. */
      leafPath?: string;
      score: number;
      valid: boolean;
      cached: boolean;
      done: number;
      total: number;
    }
  /**
   * The blacklist monitor saw a blacklisted repository in a tool call or its output. As in
   * PaperBench, any finding flags the grade for review.
   */
  | {
      type: 'blacklist_finding';
      step: number;
      /** The tool call it belongs to, and the event it was seen in (the call or its result). */
      callSeq?: number;
      seenSeq?: number;
      callId?: string;
      where: 'tool_call' | 'tool_result';
      tool: string;
      /** The repository (normalised host/path) and why it is blacklisted. */
      repo: string;
      source: 'paper' | 'paperbench' | 'user';
      /** What was seen, and how it was spelled (as written, shell, base64, …). */
      found: string;
      how: string;
      /** The command (bash) or arguments of the tool call, capped. */
      command: string;
    }
  /**
   * The agent called end_task with much of its time budget left: the submission was graded against
   * the rubric (judge cache, no reproduce.sh run). When the score is below the target, the end is
   * refused and `message` (the unmet requirements) answers the end_task call `callId`.
   */
  | {
      type: 'early_end_check';
      step: number;
      callId: string;
      /** This check's number (1-based) and the most a session makes before an end is accepted. */
      check: number;
      limit: number;
      /** Share of the time budget used when end_task came. */
      budgetUsed: number;
      score: number;
      target: number;
      refused: boolean;
      message?: string;
      leaves: number;
      /** Leaves scored below 1, and leaves the judge could not grade (left out of the score). */
      unmet: number;
      invalid: number;
      /** Judge calls made now (the rest came from the judge cache or were decided by the evidence). */
      judged: number;
      /** Score per top-level requirement of the rubric. */
      tops: { id: string; requirements: string; weight: number; score: number }[];
      durationMs: number;
    }
  | { type: 'grade'; score: number; reportPath?: string; flagged?: boolean }
  | { type: 'end'; reason: 'end_task' | 'deadline' | 'stopped' | 'error'; summary?: string };

export type AgentEvent = AgentEventBody & { seq: number; ts: number };
export type EarlyEndCheck = Extract<AgentEventBody, { type: 'early_end_check' }>;
export type AgentEventType = AgentEvent['type'];

/** Where events go: the session log, the UI, the CLI's progress line. */
export type EventSink = (event: AgentEventBody) => void;
