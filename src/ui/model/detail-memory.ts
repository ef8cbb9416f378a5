/** Bodies of the events behind timeline row details: kept in memory up to a character budget, else loaded. */
import type { AgentEvent, AgentEventBody } from '../../events/events';

/** Loads events by seq from the session log. */
export type LoadEvents = (seqs: number[]) => Promise<AgentEvent[]> | AgentEvent[];

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

  /**
   * The bodies of events `seqs` (in seq order), those no longer kept loaded with `load`;
   * undefined when some are gone and there is no `load`.
   */
  async bodiesOf(seqs: number[], load?: LoadEvents): Promise<AgentEventBody[] | undefined> {
    const bodies: AgentEventBody[] = [];
    const missing: number[] = [];
    for (const s of seqs) {
      const b = this.get(s);
      if (b) bodies.push(b);
      else missing.push(s);
    }
    if (!missing.length) return bodies;
    if (!load) return undefined;
    bodies.push(...(await load(missing)));
    return bodies.sort((a, b) => ((a as AgentEvent).seq ?? 0) - ((b as AgentEvent).seq ?? 0));
  }
}
