/**
 * The session folder's inbox (session/inbox.ts) and handing it to the agent (engine/inbox.ts): each
 * message once, by id, whether the log already names it, a line is still being written, or a
 * second engine reads the same inbox after a crash.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { InboxReader } from '../../../src/engine/inbox';
import type { AgentEvent } from '../../../src/events/events';
import { appendInbox, INBOX_FILE, readInbox } from '../../../src/session';

const root = mkdtempSync(join(tmpdir(), 'klong-inbox-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('appended messages are read back in order; a torn last line waits for its end', () => {
  const dir = mkdtempSync(join(root, 's-'));
  assert.deepEqual(readInbox(dir), { messages: [], end: 0 }, 'no inbox: nothing');
  const a = appendInbox(dir, 'first');
  const b = appendInbox(dir, 'second');
  const r = readInbox(dir);
  assert.deepEqual(
    r.messages.map((m) => [m.id, m.text]),
    [
      [a.id, 'first'],
      [b.id, 'second'],
    ],
  );
  appendFileSync(join(dir, INBOX_FILE), '{"id":"x","text":"hal');
  const more = readInbox(dir, r.end);
  assert.deepEqual(more, { messages: [], end: r.end }, 'a line still being written is not read');
  appendFileSync(join(dir, INBOX_FILE), 'f"}\nnot json\n');
  assert.deepEqual(
    readInbox(dir, r.end).messages.map((m) => m.text),
    ['half'],
    'the finished line is read; a broken one skipped',
  );
});

test('the reader hands each message once and skips those the log already names', () => {
  const dir = mkdtempSync(join(root, 's-'));
  const old = appendInbox(dir, 'handed before the crash');
  appendInbox(dir, 'not handed yet');
  const log: AgentEvent[] = [
    { seq: 0, ts: 1, type: 'user_message', text: 'Message from the user…', inbox: old.id } as AgentEvent,
  ];
  const handed: [string, string][] = [];
  const reader = new InboxReader(
    dir,
    () => log,
    (text, id) => handed.push([text, id]),
  );
  assert.equal(reader.take().length, 1);
  assert.equal(handed.length, 1);
  assert.match(handed[0]![0], /^Message from the user, who is following this session: not handed yet$/);
  assert.equal(reader.take().length, 0, 'nothing new: nothing handed');
  const later = appendInbox(dir, 'written while it runs');
  assert.deepEqual(
    reader.take().map((m) => m.id),
    [later.id],
  );
  // A second engine (after a crash) whose log has only the first: the others are handed again, once.
  const again: string[] = [];
  const second = new InboxReader(
    dir,
    () => log,
    (_t, id) => again.push(id),
  );
  second.take();
  second.take();
  assert.equal(again.length, 2);
  assert.ok(!again.includes(old.id));
});
