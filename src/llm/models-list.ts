/**
 * The endpoint's `/models` list, with each model's context window where the server says it.
 * OpenAI's own list has no such field; others name it differently: OpenRouter `context_length`,
 * vLLM `max_model_len`, Groq and others `context_window`, llama.cpp `meta.n_ctx_train`.
 */

export interface ListedModel {
  id: string;
  /** Tokens, when the endpoint says. */
  contextWindow?: number;
  ownedBy?: string;
}

const CONTEXT_FIELDS = [
  'context_length',
  'max_model_len',
  'context_window',
  'max_context_length',
  'max_context_tokens',
];

function positiveInt(v: unknown): number | undefined {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
}

function contextOf(m: Record<string, unknown>): number | undefined {
  for (const f of CONTEXT_FIELDS) {
    const n = positiveInt(m[f]);
    if (n) return n;
  }
  const top = m.top_provider as Record<string, unknown> | undefined;
  const meta = m.meta as Record<string, unknown> | undefined;
  return positiveInt(top?.context_length) ?? positiveInt(meta?.n_ctx_train) ?? positiveInt(meta?.n_ctx);
}

/** The models of a `/models` answer (`{data: [...]}` or a bare array), sorted by id. */
export function parseModelList(body: unknown): ListedModel[] {
  const data = Array.isArray(body) ? body : (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new Error('the answer has no "data" list of models');
  const out: ListedModel[] = [];
  for (const m of data as Record<string, unknown>[]) {
    if (!m || typeof m.id !== 'string' || !m.id) continue;
    const contextWindow = contextOf(m);
    out.push({
      id: m.id,
      ...(contextWindow ? { contextWindow } : {}),
      ...(typeof m.owned_by === 'string' && m.owned_by ? { ownedBy: m.owned_by } : {}),
    });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** GET <baseUrl>/models with the key; a clear error on HTTP failure or an answer that is not a list. */
export async function listModels(
  baseUrl: string,
  apiKey: string,
  opts: { timeoutMs?: number; fetch?: typeof fetch } = {},
): Promise<ListedModel[]> {
  const url = `${baseUrl.replace(/\/+$/, '')}/models`;
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(url, {
      headers: { accept: 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
      signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
    });
  } catch (err) {
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a timeout) is its cause.
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`could not reach ${url} (${cause?.code ?? cause?.message ?? (err as Error).message})`);
  }
  if (!res.ok)
    throw new Error(`${url} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new Error(`${url} did not answer JSON`);
  }
  try {
    return parseModelList(body);
  } catch (err) {
    throw new Error(`${url}: ${(err as Error).message}`);
  }
}

/** "128k context" for 128000 and for 131072 (binary sizes count in 1024s), "1M context". */
export function describeContext(tokens: number): string {
  if (tokens >= 1_000_000 && tokens % 1_000_000 === 0) return `${tokens / 1_000_000}M context`;
  if (tokens >= 1_048_576 && tokens % 1_048_576 === 0) return `${tokens / 1_048_576}M context`;
  if (tokens < 1000) return `${tokens} tokens context`;
  const k =
    tokens % 1000 === 0 ? tokens / 1000 : tokens % 1024 === 0 ? tokens / 1024 : Math.round(tokens / 1000);
  return `${k}k context`;
}
