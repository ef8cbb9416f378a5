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
  | { type: 'grade'; score: number; reportPath?: string }
  | { type: 'end'; reason: 'end_task' | 'deadline' | 'stopped' | 'error'; summary?: string };

export type AgentEvent = AgentEventBody & { seq: number; ts: number };
export type AgentEventType = AgentEvent['type'];

/** Where events go: the session log, the UI, the CLI's progress line. */
export type EventSink = (event: AgentEventBody) => void;
