/** One row of the benchmark table: our figure against a baseline measured in the same run. */
export interface BenchRow {
  name: string;
  unit: string;
  ours: number;
  baseline: number;
  /** ours / baseline unless the bench says otherwise. */
  ratio: number;
  /** Human-readable goal, e.g. "≤ 0.2×". */
  goal: string;
  pass: boolean;
  note?: string;
}

export type Bench = () => Promise<BenchRow[]>;

export function row(
  name: string,
  unit: string,
  ours: number,
  baseline: number,
  goal: { max?: number; min?: number; label?: string },
  note?: string,
): BenchRow {
  const ratio = baseline === 0 ? Number.POSITIVE_INFINITY : ours / baseline;
  const pass = (goal.max === undefined || ratio <= goal.max) && (goal.min === undefined || ratio >= goal.min);
  const label = goal.label ?? (goal.max !== undefined ? `≤ ${goal.max}×` : `≥ ${goal.min}×`);
  return { name, unit, ours, baseline, ratio, goal: label, pass, ...(note ? { note } : {}) };
}

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
