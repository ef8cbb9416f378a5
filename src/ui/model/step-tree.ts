/** A session's step tree (see agent/rewind.ts): the live path and the steps a rewind abandoned. */

/** Parent of each step, the head, and the abandoned steps (those off the path root → head). */
export class StepTree {
  private parents = new Map<number, number>();
  private head = 0;
  private abandoned = new Set<number>();

  clear(): void {
    this.parents.clear();
    this.head = 0;
    this.abandoned.clear();
  }

  /** A model request for a step not seen yet: the step hangs below the head and becomes the head. */
  add(step: number): void {
    if (this.parents.has(step)) return;
    this.parents.set(step, this.head);
    this.head = step;
  }

  /** Moves the head to `toStep` (false for an unknown step); a rewind of a rewind can revive steps. */
  rewind(toStep: number): boolean {
    if (toStep !== 0 && !this.parents.has(toStep)) return false;
    this.head = toStep;
    const live = new Set([0, ...this.liveSteps()]);
    this.abandoned = new Set([...this.parents.keys()].filter((s) => !live.has(s)));
    return true;
  }

  isAbandoned(step: number): boolean {
    return this.abandoned.has(step);
  }

  /** Step numbers of the current conversation, newest first (for the rewind picker). */
  liveSteps(): number[] {
    const out: number[] = [];
    for (let s: number | undefined = this.head; s !== undefined && s > 0; s = this.parents.get(s))
      out.push(s);
    return out;
  }

  /** Every step, newest first, and whether it is on an abandoned branch. */
  steps(): { step: number; abandoned: boolean }[] {
    return [...this.parents.keys()]
      .sort((a, b) => b - a)
      .map((step) => ({ step, abandoned: this.abandoned.has(step) }));
  }
}
