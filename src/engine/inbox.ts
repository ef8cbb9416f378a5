/**
 * Handing the agent the messages of the session folder's inbox (session/inbox.ts): each once, by
 * its id, whatever engine wrote or read the inbox before (the log's `user_message` events name the
 * ids already handed).
 */
import { fromUser } from '../agent/prompt';
import type { AgentEvent } from '../events/events';
import { type InboxMessage, readInbox } from '../session';

export class InboxReader {
  private offset = 0;
  private handed: Set<string> | undefined;

  constructor(
    private readonly dir: string,
    /** The session's events so far (scanned once, when the inbox first has a message). */
    private readonly events: () => Iterable<AgentEvent>,
    private readonly inject: (text: string, id: string) => void,
  ) {}

  /** Hands the agent the messages not handed yet; returns them. */
  take(): InboxMessage[] {
    const r = readInbox(this.dir, this.offset);
    this.offset = r.end;
    if (!r.messages.length) return [];
    if (!this.handed) {
      this.handed = new Set();
      for (const e of this.events()) if (e.type === 'user_message' && e.inbox) this.handed.add(e.inbox);
    }
    const fresh = r.messages.filter((m) => !this.handed!.has(m.id));
    for (const m of fresh) {
      this.handed.add(m.id);
      this.inject(fromUser(m.text), m.id);
    }
    return fresh;
  }
}
