/**
 * `inbox.jsonl` in a session folder: messages for the agent given while no engine could take them
 * (it was still starting, or the session was stopped). One JSON line each, appended with an fsync;
 * the engine hands them to the agent when it runs and its `user_message` event names the line's id,
 * so a message is delivered once even when the engine dies before or after logging it.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { readBytesFrom } from './fsutil';

export const INBOX_FILE = 'inbox.jsonl';

export interface InboxMessage {
  id: string;
  text: string;
  at: number;
}

/** Append a message (durable when this returns). */
export function appendInbox(sessionDir: string, text: string, now = Date.now()): InboxMessage {
  const m: InboxMessage = { id: randomUUID(), text, at: now };
  // One write of a whole line in append mode: concurrent writers never interleave within it.
  const fd = openSync(join(sessionDir, INBOX_FILE), 'a');
  try {
    writeSync(fd, `${JSON.stringify(m)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return m;
}

/**
 * The messages from byte `from` on, and the offset after the last complete line (a line still
 * being written is read next time). Lines that are not a message are skipped.
 */
export function readInbox(sessionDir: string, from = 0): { messages: InboxMessage[]; end: number } {
  const file = join(sessionDir, INBOX_FILE);
  if (!existsSync(file)) return { messages: [], end: from };
  const { bytes: buf } = readBytesFrom(file, from);
  const last = buf.lastIndexOf(0x0a);
  if (last < 0) return { messages: [], end: from };
  const messages: InboxMessage[] = [];
  for (const line of buf.subarray(0, last).toString('utf8').split('\n')) {
    try {
      const m = JSON.parse(line) as Partial<InboxMessage>;
      if (typeof m.id === 'string' && typeof m.text === 'string' && m.text.trim())
        messages.push({ id: m.id, text: m.text, at: typeof m.at === 'number' ? m.at : 0 });
    } catch {
      // a line torn by a crash mid-write: nothing of it was acknowledged
    }
  }
  return { messages, end: from + last + 1 };
}
