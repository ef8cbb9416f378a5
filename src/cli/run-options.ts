/** The options `klong reproduce` and `klong batch` share: the model, the container and a run's limits. */
import type { Prices } from '../llm/types';
import type { GpuRequest, Limits } from '../sandbox';
import {
  gpusOption,
  LIMIT_OPTIONS,
  labelOptions,
  limitOptions,
  networkOption,
  numberOption,
  priceOption,
} from './args';

export const RUN_OPTIONS = {
  model: { type: 'string' },
  'base-url': { type: 'string' },
  'context-limit': { type: 'string' },
  'spend-cap': { type: 'string' },
  price: { type: 'string' },
  network: { type: 'string' },
  image: { type: 'string' },
  gpus: { type: 'string' },
  'max-steps': { type: 'string' },
  'no-final-run': { type: 'boolean' },
  label: { type: 'string', multiple: true },
  ...LIMIT_OPTIONS,
} as const;

/** The values parseArgs gives for RUN_OPTIONS. */
export type RunOptionValues = {
  [K in keyof typeof RUN_OPTIONS]?: (typeof RUN_OPTIONS)[K] extends { type: 'boolean' }
    ? boolean
    : (typeof RUN_OPTIONS)[K] extends { multiple: true }
      ? string[]
      : string;
};

export interface RunOptions {
  model: string;
  baseUrl: string;
  contextLimit: number;
  spendCapUsd?: number;
  /** --price; without it the model's list price. */
  prices?: Prices;
  network: 'bridge' | 'none';
  image?: string;
  /** --gpus (absent: none, i.e. what devcontainer.json asks for). */
  gpus?: GpuRequest;
  maxSteps?: number;
  finalRun: boolean;
  finalTimeoutMs: number;
  labels: Record<string, string>;
  limits: Limits;
}

/** The shared options checked, with their defaults (the model and endpoint also from the environment). */
export function runOptions(v: RunOptionValues, env: NodeJS.ProcessEnv): RunOptions {
  const network = networkOption(v.network);
  const gpus = gpusOption(v.gpus);
  const labels = labelOptions(v.label);
  const maxSteps = numberOption('max-steps', v['max-steps'], { integer: true });
  const spendCapUsd = numberOption('spend-cap', v['spend-cap']);
  const contextLimit = numberOption('context-limit', v['context-limit'], { integer: true }) ?? 128_000;
  const limits = limitOptions(v);
  const prices = priceOption(v.price);
  return {
    model: v.model ?? env.KLONG_MODEL ?? 'gpt-4.1',
    baseUrl: v['base-url'] ?? env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1',
    contextLimit,
    ...(spendCapUsd !== undefined ? { spendCapUsd } : {}),
    ...(prices ? { prices } : {}),
    network,
    ...(v.image ? { image: v.image } : {}),
    ...(gpus ? { gpus } : {}),
    ...(maxSteps !== undefined ? { maxSteps } : {}),
    finalRun: !v['no-final-run'],
    finalTimeoutMs: 2 * 3600_000,
    labels,
    limits,
  };
}
