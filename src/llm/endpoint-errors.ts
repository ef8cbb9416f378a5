/**
 * What an endpoint's error means for a request: retry (with how long to wait) or give up with an
 * error that tells the user what to fix. Apart from the client so the whole policy reads in one
 * place and the client keeps only the request itself.
 */
import { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { abortError } from './sleep';
import { StallError } from './stall-watch';
import { ContextLengthError, FatalModelError } from './types';

export type Classified =
  | { kind: 'retry'; reason: string; delayMs?: number; status?: number }
  | { kind: 'throw'; error: Error };

export interface ClassifyOptions {
  baseURL: string;
  model: string;
  signal?: AbortSignal | undefined;
  /** A 400's detail named a parameter the client can stop sending: the retry's reason, else undefined. */
  adapt: (detail: string) => string | undefined;
}

export function classifyError(err: unknown, o: ClassifyOptions): Classified {
  if (o.signal?.aborted) return { kind: 'throw', error: abortError(o.signal) };
  if (err instanceof StallError) return { kind: 'retry', reason: `stalled stream: ${err.message}` };
  if (err instanceof APIError && err.status !== undefined) return classifyStatus(err, err.status, o);
  if (err instanceof APIUserAbortError) return { kind: 'retry', reason: 'request aborted' };
  if (err instanceof APIConnectionError)
    return { kind: 'retry', reason: `cannot reach ${o.baseURL}: ${networkCause(err)}` };
  return { kind: 'throw', error: err instanceof Error ? err : new Error(String(err)) };
}

function classifyStatus(err: APIError, s: number, o: ClassifyOptions): Classified {
  const where = o.baseURL;
  const detail = apiMessage(err);
  const fatal = (message: string): Classified => ({ kind: 'throw', error: new FatalModelError(message, s) });
  if (s === 401)
    return fatal(
      `The endpoint rejected the API key (401) at ${where}. Set a valid key (OPENAI_API_KEY or KLONG_API_KEY for the CLI; "KLong: Set model API key" in VS Code) and resume the session.`,
    );
  if (s === 403)
    return fatal(
      `The endpoint refused access (403) at ${where}: ${detail}. Check the key's permissions for model "${o.model}" and resume the session.`,
    );
  if (s === 404)
    return fatal(
      `Model "${o.model}" not found at ${where} (404): ${detail}. Check the model name and the base URL (it usually ends in /v1).`,
    );
  if (isContextLength(err)) return { kind: 'throw', error: new ContextLengthError(detail) };
  const adapted = s === 400 ? o.adapt(detail) : undefined;
  if (adapted) return { kind: 'retry', reason: adapted, status: s, delayMs: 0 };
  if (s === 408 || s === 409 || s === 429 || s >= 500) {
    return { kind: 'retry', reason: `${s} ${detail}`, status: s, delayMs: retryAfterMs(err.headers) };
  }
  return fatal(`The endpoint refused the request (${s}) at ${where}: ${detail}`);
}

/** "ECONNREFUSED 127.0.0.1:9" rather than the client's "Connection error.": the cause at the bottom of the chain. */
function networkCause(err: Error): string {
  let e: unknown = err;
  for (let i = 0; i < 5 && (e as { cause?: unknown }).cause; i++) e = (e as { cause: unknown }).cause;
  const { code, message } = e as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : err.message;
  return typeof code === 'string' && !text.includes(code) ? `${code} ${text}` : text;
}

function apiMessage(err: APIError): string {
  const e = err.error as { message?: unknown } | undefined;
  return typeof e?.message === 'string' ? e.message : err.message;
}

function isContextLength(err: APIError): boolean {
  if (err.code === 'context_length_exceeded') return true;
  return (
    err.status === 400 &&
    /context length|context window|maximum context|too many tokens|prompt is too long/i.test(apiMessage(err))
  );
}

/** Retry-After (seconds or HTTP date) or retry-after-ms, in milliseconds. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = headers?.get('retry-after');
  if (!ra) return undefined;
  if (/^\d+(\.\d+)?$/.test(ra.trim())) return Number(ra) * 1000;
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
