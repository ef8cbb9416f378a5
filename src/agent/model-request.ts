/**
 * A step's model request with its recoveries: a refusal as too long splits the context and asks
 * again (smaller each time), a provider outage waits (not active time) and asks again. Apart from
 * the loop because these policies are a story of their own; the loop only sees an answer or "redo".
 */

import type { AgentEventBody } from '../events/events';
import { abortableSleep } from '../llm/sleep';
import {
  type ChatResponse,
  ContextLengthError,
  FatalModelError,
  ModelUnavailableError,
  type ToolSpec,
} from '../llm/types';
import type { ContextManager } from './context';
import type { AgentSessionDeps } from './loop-types';
import { CONTEXT_LENGTH_PREFIX } from './replay';

/** Recoveries in a row; the loop zeroes them after an answer. */
export interface RequestRetries {
  context: number;
  outages: number;
}

export interface ModelRequestOptions {
  deps: Pick<AgentSessionDeps, 'model' | 'budget' | 'outageWaitMs' | 'outageRetries'>;
  context: ContextManager;
  specs: ToolSpec[];
  retries: RequestRetries;
  /** Aborts on stop (ends an outage wait too). */
  stopSignal: AbortSignal;
  /** Aborts this request only (a pause). */
  requestSignal: AbortSignal;
  /** Paused or stopped meanwhile: the request's error is not the model's, the step is redone. */
  interrupted: () => boolean;
  paused: () => boolean;
  emit: (e: AgentEventBody) => void;
  /** Split the context keeping this many turns. */
  split: (keepTurns: number) => Promise<void>;
}

/** The model's answer, or undefined to redo the step (paused, stopped, or recovered for a retry). */
export async function requestModel(o: ModelRequestOptions): Promise<ChatResponse | undefined> {
  try {
    return await o.deps.model.chat({
      messages: o.context.messages(),
      tools: o.specs,
      headLength: o.context.head.length,
      signal: AbortSignal.any([o.stopSignal, o.requestSignal]),
    });
  } catch (err) {
    if (o.interrupted()) return undefined; // redo this step after resume, or stop
    if (err instanceof ContextLengthError) return await tooLong(o, err);
    // A provider outage outlasting the client's retries: wait (not active time) and try again.
    if (err instanceof ModelUnavailableError && o.retries.outages < (o.deps.outageRetries ?? 10)) {
      await waitOutOutage(o, err);
      return undefined;
    }
    throw err;
  }
}

async function tooLong(o: ModelRequestOptions, err: ContextLengthError): Promise<undefined> {
  const { context, retries } = o;
  if (retries.context >= 3) {
    // The endpoint's window is smaller than the limit the context is cut to: only the user can fix that.
    throw new FatalModelError(
      `The model refused the request as too long for its context window even after splitting the context ${retries.context} times (${err.message}). KLong cuts the context to ${context.config.contextLimit} tokens: set the model's real window lower (CLI --context-limit, VS Code setting klong.model.contextLimit), then resume.`,
    );
  }
  retries.context++;
  o.emit({
    type: 'error',
    message: `${CONTEXT_LENGTH_PREFIX}: ${err.message} Splitting the context.`,
    fatal: false,
  });
  // Each retry must be smaller than the refused request: keep half the turns, then none.
  const turns = context.body.filter((m) => m.role === 'assistant').length;
  await o.split(retries.context === 1 ? Math.min(context.config.keepTurns, Math.floor(turns / 2)) : 0);
  return undefined;
}

async function waitOutOutage(o: ModelRequestOptions, err: ModelUnavailableError): Promise<void> {
  const { budget } = o.deps;
  o.retries.outages++;
  const waitMs = o.deps.outageWaitMs ?? 60_000;
  o.emit({
    type: 'error',
    message: `${err.message.replace(/ The session is saved.*$/, '')} Waiting ${Math.round(waitMs / 1000)} s before trying again (${o.retries.outages}/${o.deps.outageRetries ?? 10}).`,
    fatal: false,
  });
  budget.pause();
  await abortableSleep(waitMs, o.stopSignal).catch(() => undefined);
  if (!o.paused()) budget.start();
}
