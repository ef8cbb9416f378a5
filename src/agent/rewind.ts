/**
 * Rewind on an append-only log. Steps form a tree: a step's parent is the step the conversation
 * was at when it began (the previous step, or the target of a conversation rewind). The current
 * conversation is the path from the root to the head; every other step is an abandoned branch that
 * stays readable. Step numbers never repeat, so "step N" names one step even after rewinds.
 */

import type { AgentEvent, AgentEventBody, RewindMode } from '../events/events';
import type { Prices } from '../llm/types';
import type { ContextManager } from './context';
import { emptyProgress } from './progress-note';
import { addUsage, applyEvent, emptyTotals, type LoopState } from './replay';

type Ev = AgentEvent | AgentEventBody;

export interface StepNode {
  step: number;
  /** -1 for the root (step 0: before the first model request). */
  parent: number;
  /** Shadow-git commit of the workspace after this step; undefined = the workspace as copied in. */
  code: string | undefined;
  /** Events of this step that build the agent's context, in log order. */
  events: Ev[];
}

export interface History {
  /** The step the conversation continues from. */
  head: number;
  /** Highest step number used (the next step is maxStep + 1, also after a rewind). */
  maxStep: number;
  steps: Map<number, StepNode>;
  /** Commit of the workspace now, per the log (undefined = as copied in). */
  code: string | undefined;
  /** Events after the head's last step that are not yet part of a step (notes, reminders, end). */
  pending: Ev[];
}

const STEP_EVENTS = new Set(['tool_call', 'tool_result', 'plan', 'edit_proposed', 'edit_withdrawn']);

/** Folds a whole log into its step tree. */
export function foldHistory(events: Iterable<Ev>): History {
  const root: StepNode = { step: 0, parent: -1, code: undefined, events: [] };
  const steps = new Map<number, StepNode>([[0, root]]);
  let head = 0;
  let maxStep = 0;
  let code: string | undefined;
  let pending: Ev[] = [];
  for (const e of events) {
    switch (e.type) {
      case 'model_request': {
        let node = steps.get(e.step);
        if (!node) {
          node = { step: e.step, parent: head, code, events: [] };
          steps.set(e.step, node);
          head = e.step;
          maxStep = Math.max(maxStep, e.step);
        }
        node.events.push(...pending, e);
        pending = [];
        break;
      }
      case 'model_response':
        if (e.purpose === 'summary') pending.push(e);
        else steps.get(head)?.events.push(e);
        break;
      case 'checkpoint': {
        if (!e.commit) break;
        code = e.commit;
        const node = steps.get(e.step);
        if (node) node.code = e.commit;
        break;
      }
      case 'rewind': {
        const target = steps.get(e.toStep);
        if (!target) break; // refused before it was logged; ignore a hand-edited one
        if (e.mode !== 'conversation') code = e.commit ?? target.code;
        if (e.mode !== 'code') {
          head = e.toStep;
          pending = []; // what was said after that step belongs to the abandoned branch
        }
        break;
      }
      default:
        if (STEP_EVENTS.has(e.type)) steps.get(head)?.events.push(e);
        else pending.push(e);
    }
  }
  return { head, maxStep, steps, code, pending };
}

/** Steps from the root to `step` (inclusive), in order. */
export function pathTo(h: History, step: number): number[] {
  const out: number[] = [];
  for (let s: number | undefined = step; s !== undefined && s >= 0; s = h.steps.get(s)?.parent) out.push(s);
  return out.reverse();
}

/** Steps not on the current conversation's path (the abandoned branches). */
export function abandonedSteps(h: History): Set<number> {
  const live = new Set(pathTo(h, h.head));
  return new Set([...h.steps.keys()].filter((s) => !live.has(s)));
}

/** The events that make up the current conversation, in log order. */
export function conversationEvents(h: History): Ev[] {
  return [...pathTo(h, h.head).flatMap((s) => h.steps.get(s)?.events ?? []), ...h.pending];
}

/** True when replaying these events needs the whole log (a rewind changed the conversation). */
export function needsFullReplay(tail: Iterable<Ev>): boolean {
  for (const e of tail) if (e.type === 'rewind' && e.mode !== 'code') return true;
  return false;
}

/**
 * The loop state after the whole log, rewinds included: the context and plan of the current path,
 * but the step counter, the spend and the background jobs of everything that really happened.
 */
export function replayHistory(all: Ev[], cm: ContextManager, prices?: Prices): LoopState {
  const h = foldHistory(all);
  const st: LoopState = { step: 0, progress: emptyProgress(), totals: emptyTotals(), lastEstimate: 0 };
  for (const e of conversationEvents(h)) applyEvent(e, cm, st, prices);
  st.step = h.maxStep;
  st.totals = emptyTotals();
  for (const e of all) {
    if (e.type === 'model_response') addUsage(st, e.usage, e.costUsd || 0);
  }
  // Jobs are processes, not conversation: one started on an abandoned branch may still run.
  delete st.jobs;
  for (const e of all) if (e.type === 'job_started' || e.type === 'job_ended') applyEvent(e, cm, st, prices);
  return st;
}

/** Checks a rewind request against the log; returns the target step's node or throws a clear error. */
export function checkRewind(h: History, toStep: number, mode: RewindMode): StepNode {
  if (!Number.isInteger(toStep) || toStep < 0)
    throw new Error(`--to must be a step number (0 or more), got ${toStep}.`);
  const node = h.steps.get(toStep);
  if (!node) {
    throw new Error(
      `Step ${toStep} is not in this session (steps 0–${h.maxStep}${h.maxStep === 0 ? '; nothing to rewind yet' : ''}).`,
    );
  }
  if (mode === 'conversation' && toStep === h.head)
    throw new Error(`The conversation is already at step ${toStep}; use code mode to reset only the files.`);
  return node;
}

/** What the agent reads after a rewind, so that its next request explains the new situation. */
export function rewindNote(toStep: number, mode: RewindMode): string {
  switch (mode) {
    case 'code':
      return `The user rewound the workspace files to their state after step ${toStep}; your conversation continues. Files you changed after that step are back as they were: re-read files before editing them.`;
    case 'conversation':
      return `The user rewound the conversation to step ${toStep}; the files were kept as they are now, so they may include changes made after that step. Check the files before relying on them.`;
    case 'both':
      return `The user rewound the session to step ${toStep}: the files and the conversation are as they were after that step. Continue from there.`;
  }
}
