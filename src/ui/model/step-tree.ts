/** A session's step tree (see agent/rewind.ts): the live path and the steps a rewind abandoned. */

/**
 * A StepTree as JSON (a model checkpoint keeps it), in runs so that it stays small for a long session:
 * `parents` [first step, its parent, n]: steps first..first+n-1 each below the one before;
 * `abandoned` [first step, n].
 */
export interface StepTreeData {
  parents: [number, number, number][];
  head: number;
  abandoned: [number, number][];
}

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

  toData(): StepTreeData {
    const parents: [number, number, number][] = [];
    for (const [step, parent] of this.parents) {
      const run = parents.at(-1);
      if (run && step === run[0] + run[2] && parent === step - 1) run[2]++;
      else parents.push([step, parent, 1]);
    }
    const abandoned: [number, number][] = [];
    for (const step of [...this.abandoned].sort((a, b) => a - b)) {
      const run = abandoned.at(-1);
      if (run && step === run[0] + run[1]) run[1]++;
      else abandoned.push([step, 1]);
    }
    return { parents, head: this.head, abandoned };
  }

  load(d: StepTreeData): void {
    this.parents = new Map();
    for (const [first, parent, n] of d.parents) {
      for (let i = 0; i < n; i++) this.parents.set(first + i, i === 0 ? parent : first + i - 1);
    }
    this.head = d.head;
    this.abandoned = new Set();
    for (const [first, n] of d.abandoned) for (let i = 0; i < n; i++) this.abandoned.add(first + i);
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
