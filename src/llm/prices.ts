/**
 * List prices of common models, USD per million tokens (uncached input, cached input, output), for the
 * cost shown next to the budget and the spend cap. Providers change prices: the user's setting
 * (klong.model.pricePerMillionTokens, `klong reproduce --price`) always wins over this table.
 * Long-context tiers (Gemini over 200k, Qwen over 32k) are not modelled: the lower tier is listed.
 */
import type { Prices } from './types';

/** When the table was put together from the providers' price pages. */
export const PRICE_TABLE_DATE = '2025-11';

const p = (input: number, cachedInput: number, output: number): Prices => ({ input, cachedInput, output });

/**
 * Keys are model names with dots written as dashes; a model matches the longest key it starts with,
 * followed by the end of the name or a `-` / `:` (so `gpt-4o-mini-2024-07-18` is gpt-4o-mini, not gpt-4o).
 */
const TABLE: Record<string, Prices> = {
  // OpenAI
  'gpt-5-1': p(1.25, 0.125, 10),
  'gpt-5-1-codex-mini': p(0.25, 0.025, 2),
  'gpt-5': p(1.25, 0.125, 10),
  'gpt-5-mini': p(0.25, 0.025, 2),
  'gpt-5-nano': p(0.05, 0.005, 0.4),
  'gpt-5-pro': p(15, 15, 120),
  'gpt-4-1': p(2, 0.5, 8),
  'gpt-4-1-mini': p(0.4, 0.1, 1.6),
  'gpt-4-1-nano': p(0.1, 0.025, 0.4),
  'gpt-4o': p(2.5, 1.25, 10),
  'gpt-4o-mini': p(0.15, 0.075, 0.6),
  o1: p(15, 7.5, 60),
  'o1-mini': p(1.1, 0.55, 4.4),
  o3: p(2, 0.5, 8),
  'o3-pro': p(20, 20, 80),
  'o3-mini': p(1.1, 0.55, 4.4),
  'o4-mini': p(1.1, 0.275, 4.4),
  'codex-mini': p(1.5, 0.375, 6),
  // Anthropic (cache reads at a tenth of the input price)
  'claude-opus-4-5': p(5, 0.5, 25),
  'claude-opus-4-1': p(15, 1.5, 75),
  'claude-opus-4': p(15, 1.5, 75),
  'claude-sonnet-4-5': p(3, 0.3, 15),
  'claude-sonnet-4': p(3, 0.3, 15),
  'claude-haiku-4-5': p(1, 0.1, 5),
  'claude-3-7-sonnet': p(3, 0.3, 15),
  'claude-3-5-sonnet': p(3, 0.3, 15),
  'claude-3-5-haiku': p(0.8, 0.08, 4),
  'claude-3-opus': p(15, 1.5, 75),
  'claude-3-haiku': p(0.25, 0.03, 1.25),
  // Google (prompts up to 200k tokens)
  'gemini-3-pro': p(2, 0.2, 12),
  'gemini-2-5-pro': p(1.25, 0.125, 10),
  'gemini-2-5-flash': p(0.3, 0.03, 2.5),
  'gemini-2-5-flash-lite': p(0.1, 0.01, 0.4),
  'gemini-2-0-flash': p(0.1, 0.025, 0.4),
  'gemini-2-0-flash-lite': p(0.075, 0.075, 0.3),
  // DeepSeek (V3.2: chat and reasoner share one price)
  'deepseek-chat': p(0.28, 0.028, 0.42),
  'deepseek-reasoner': p(0.28, 0.028, 0.42),
  // Qwen (Alibaba Cloud Model Studio, international; cache hits at a fifth of the input price)
  'qwen3-max': p(1.2, 0.24, 6),
  'qwen-max': p(1.6, 0.32, 6.4),
  'qwen-plus': p(0.4, 0.08, 1.2),
  'qwen-turbo': p(0.05, 0.01, 0.2),
  'qwen-flash': p(0.05, 0.01, 0.4),
  'qwen3-coder-plus': p(1, 0.2, 5),
  'qwen3-coder-flash': p(0.3, 0.06, 1.5),
  // Others often used for agents
  'grok-4': p(3, 0.75, 15),
  'grok-code-fast-1': p(0.2, 0.02, 1.5),
  'kimi-k2': p(0.6, 0.15, 2.5),
  'glm-4-6': p(0.6, 0.11, 2.2),
  'mistral-large': p(2, 2, 6),
  'mistral-medium': p(0.4, 0.4, 2),
  'devstral-medium': p(0.4, 0.4, 2),
};

/** `openai/gpt-4.1` (OpenRouter), `models/gemini-2.5-pro`, `claude-sonnet-4-5@20250929` (Vertex) → the table's form. */
function normalise(model: string): string {
  const base = model.trim().toLowerCase().split('/').pop() ?? '';
  return base
    .replace(/@.*$/, '')
    .replace(/\./g, '-')
    .replace(/-latest$/, '');
}

/** The list price of a model, or undefined for a model the table does not know (a local server, a new model). */
export function listPrice(model: string): Prices | undefined {
  const name = normalise(model);
  let best: string | undefined;
  for (const key of Object.keys(TABLE)) {
    if (!name.startsWith(key)) continue;
    const next = name.charAt(key.length);
    if (next !== '' && next !== '-' && next !== ':') continue;
    if (!best || key.length > best.length) best = key;
  }
  return best ? { ...TABLE[best]! } : undefined;
}

/** A price setting such as {input, cachedInput, output}: undefined when unset or not three numbers ≥ 0. */
export function validPrices(v: unknown): Prices | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const ok = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  if (!ok(o.input) || !ok(o.output)) return undefined;
  return { input: o.input, cachedInput: ok(o.cachedInput) ? o.cachedInput : o.input, output: o.output };
}

/** `in,cached,out` (or `in,out`: cached input then costs as much as input), USD per million tokens. */
export function parsePrices(text: string): Prices {
  const parts = text.split(',').map((s) => s.trim());
  const nums = parts.map(Number);
  if (
    (parts.length !== 3 && parts.length !== 2) ||
    parts.some((s) => s === '') ||
    nums.some((n) => !(n >= 0))
  )
    throw new Error(
      `Not a price: "${text}". Give USD per million tokens as input,cached,output (e.g. 2,0.5,8) or input,output.`,
    );
  return nums.length === 3
    ? { input: nums[0]!, cachedInput: nums[1]!, output: nums[2]! }
    : { input: nums[0]!, cachedInput: nums[0]!, output: nums[1]! };
}

export interface PriceChoice {
  prices?: Prices;
  /** Where the prices come from, for messages. */
  source: 'setting' | 'table' | 'unknown';
}

/** The user's prices when given, else the table's for the model, else none (cost is not counted). */
export function pricesFor(model: string, override?: Prices): PriceChoice {
  if (override) return { prices: override, source: 'setting' };
  const listed = listPrice(model);
  return listed ? { prices: listed, source: 'table' } : { source: 'unknown' };
}
