/** The webview side of the message channel: typed, validated on receipt, errors reported home. */
import type * as zm from 'zod/mini';
import { receive } from '../../src/protocol/validate';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const api: VsCodeApi = acquireVsCodeApi();

export type LogMessage = { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export function post<M extends { type: string }>(msg: M): void {
  api.postMessage(msg);
}

export function logHome(level: LogMessage['level'], message: string): void {
  console[level === 'info' ? 'log' : level](message);
  post<LogMessage>({ type: 'log', level, message: message.slice(0, 4000) });
}

/** Calls `handler` with every message from the extension that matches `schema`; drops the rest. */
export function onMessage<S extends zm.ZodMiniType>(schema: S, handler: (msg: zm.infer<S>) => void): void {
  window.addEventListener('message', (ev: MessageEvent) => {
    const msg = receive(schema, ev.data, (m) => logHome('warn', m), 'the extension');
    if (msg === undefined) return;
    try {
      handler(msg);
    } catch (err) {
      logHome(
        'error',
        `handling ${(msg as { type?: string }).type}: ${err instanceof Error ? err.stack : String(err)}`,
      );
    }
  });
}

export function getState<T>(): Partial<T> {
  const s = api.getState();
  return s && typeof s === 'object' ? (s as Partial<T>) : {};
}

export function setState(state: unknown): void {
  api.setState(state);
}

/** document.createElement with attributes and children, for terse view code. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: (Node | string | undefined | null | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') el.className = String(v);
    else if (k === 'text') el.textContent = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== undefined && c !== null && c !== false) el.append(c);
  return el;
}

window.addEventListener('error', (ev) => logHome('error', `${ev.message} at ${ev.filename}:${ev.lineno}`));
window.addEventListener('unhandledrejection', (ev) =>
  logHome('error', `unhandled rejection: ${String(ev.reason)}`),
);
