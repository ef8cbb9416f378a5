/** Bodies of the events behind timeline row details, kept in memory up to a character budget. */
import type { AgentEventBody } from '../agent/events';

/** Bodies of the events behind row details, bounded by a character budget (insertion order = age). */
export class DetailMemory {
  private readonly bodies = new Map<number, { body: AgentEventBody; size: number }>();
  private chars = 0;
  constructor(private readonly budget: number) {}
  put(seq: number, body: AgentEventBody): void {
    const size = JSON.stringify(body).length;
    this.bodies.set(seq, { body, size });
    this.chars += size;
    for (const [k, v] of this.bodies) {
      if (this.chars <= this.budget) break;
      this.bodies.delete(k);
      this.chars -= v.size;
    }
  }
  get(seq: number): AgentEventBody | undefined {
    return this.bodies.get(seq)?.body;
  }
}
