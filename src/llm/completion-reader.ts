/**
 * The endpoint's reply, whole or streamed, read into content, reasoning, tool calls and usage.
 * Apart from the client because this is where servers differ (calls without index or id, objects
 * for arguments, usage in odd chunks), and it is easiest to read and test on its own.
 */
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import { reasoningOf, usageOf } from './dialects';
import type { ToolCall, Usage } from './types';

/** What one reply said, before the client shapes it into a ChatResponse. */
export interface RawReply {
  content: string | null;
  reasoning: string | undefined;
  toolCalls: ToolCall[];
  usage: Usage | undefined;
  finishReason: string | null;
}

/** A non-streamed completion; its text goes to `onDelta` in one piece. */
export function readCompletion(r: ChatCompletion, onDelta?: (text: string) => void): RawReply {
  const choice = r.choices[0];
  const toolCalls: ToolCall[] = (choice?.message.tool_calls ?? []).flatMap((c, i) =>
    c.type === 'function'
      ? [{ id: c.id || callId(i), name: c.function.name, arguments: argumentsText(c.function.arguments) }]
      : [],
  );
  if (choice?.message.content) onDelta?.(choice.message.content);
  return {
    content: choice?.message.content ?? null,
    reasoning: reasoningOf(choice?.message),
    toolCalls,
    usage: usageOf(r.usage, (r as { timings?: unknown }).timings),
    finishReason: choice?.finish_reason ?? null,
  };
}

/** A stream of chunks; `onChunk` runs for each (the stall timer), `onDelta` for each piece of text. */
export async function readStream(
  stream: AsyncIterable<ChatCompletionChunk>,
  on: { chunk: () => void; delta?: ((text: string) => void) | undefined },
): Promise<RawReply> {
  let content = '';
  let reasoning = '';
  let finishReason: string | null = null;
  let usage: Usage | undefined;
  const calls: { id: string; name: string; arguments: string }[] = [];
  for await (const chunk of stream) {
    on.chunk();
    // OpenAI sends usage in a last chunk without choices; llama.cpp with the finish_reason chunk.
    if (chunk.usage) usage = usageOf(chunk.usage, (chunk as { timings?: unknown }).timings) ?? usage;
    const choice = chunk.choices?.[0];
    if (!choice?.delta) continue;
    if (choice.delta.content) {
      content += choice.delta.content;
      on.delta?.(choice.delta.content);
    }
    reasoning += reasoningOf(choice.delta) ?? '';
    for (const d of choice.delta.tool_calls ?? []) addCallDelta(calls, d);
    if (choice.finish_reason) finishReason = choice.finish_reason;
  }
  return {
    content: content || null,
    reasoning: reasoning || undefined,
    toolCalls: calls.filter(Boolean).map((c, i) => ({ ...c, id: c.id || callId(i) })),
    usage,
    finishReason,
  };
}

type CallDelta = NonNullable<ChatCompletionChunk.Choice.Delta['tool_calls']>[number];

function addCallDelta(calls: { id: string; name: string; arguments: string }[], d: CallDelta): void {
  // Without an index (some servers): a new id starts a call, anything else continues the last.
  const last = calls.length - 1;
  const at =
    typeof d.index === 'number' ? d.index : d.id && calls[last]?.id !== d.id ? last + 1 : Math.max(0, last);
  calls[at] ??= { id: '', name: '', arguments: '' };
  const c = calls[at]!;
  if (d.id) c.id = d.id;
  // A name sent whole in every chunk is not repeated.
  if (d.function?.name && c.name !== d.function.name) c.name += d.function.name;
  if (d.function?.arguments) c.arguments += argumentsText(d.function.arguments);
}

let calls = 0;
/** Some servers (llama.cpp, Ollama) send tool calls without ids; the context needs one to link results. */
function callId(i: number): string {
  return `call_${Date.now().toString(36)}_${++calls}_${i}`;
}

/** Arguments as text: a few servers send the object itself instead of its JSON encoding. */
function argumentsText(a: unknown): string {
  return typeof a === 'string' ? a : a === undefined || a === null ? '' : JSON.stringify(a);
}
