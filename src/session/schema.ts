/** On-disk layout and schema versions of a session directory. */

export const EVENTS_SCHEMA_VERSION = 1;
export const SNAPSHOT_SCHEMA_VERSION = 1;

export const FILES = {
  events: 'events.jsonl',
  index: 'events.idx',
  snapshot: 'snapshot.json',
  prevSnapshot: 'snapshot.prev.json',
  summary: 'summary.json',
  lock: 'session.lock',
  /** The state folder a moved session came from (its container is still labelled with that folder). */
  movedFrom: 'moved-from',
} as const;

/** First line of events.jsonl. */
export interface EventsHeader {
  klong: 'events';
  schemaVersion: number;
  sessionId: string;
  createdAt: number;
}

export function isEventsHeader(v: unknown): v is EventsHeader {
  if (typeof v !== 'object' || v === null) return false;
  const h = v as Record<string, unknown>;
  return h.klong === 'events' && typeof h.schemaVersion === 'number' && typeof h.sessionId === 'string';
}

/** Session ids become directory names: keep them to a safe alphabet. */
export function assertSessionId(id: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id)) {
    throw new Error(`Invalid session id "${id}": use letters, digits, '.', '_' or '-' (max 128).`);
  }
}

/** A time-sortable id such as 20261125-110436-3fa9c2. */
export function newSessionId(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  const rand = Math.floor(Math.random() * 0x1000000)
    .toString(16)
    .padStart(6, '0');
  return `${stamp}-${rand}`;
}
