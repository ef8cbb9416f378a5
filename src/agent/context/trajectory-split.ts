/**
 * KLong's trajectory splitting for SFT: a trajectory too long for one training sample becomes
 * sub-trajectories that each keep the pinned head (system prompt, task, paper) and continue from
 * the previous one with an overlap of its last K turns, so that none exceeds `maxTokens`. Cuts
 * fall only between turns (a turn = the user messages before an assistant message, the assistant
 * message and its tool results), so a tool call always keeps its results.
 */

import type { TokenCounter } from '../../llm/tokens';
import type { ChatMessage, ToolSpec } from '../../llm/types';
import { capText, messageTokens } from './index';

export type Turn = ChatMessage[];

export interface SplitOptions {
  /** No sub-trajectory (head + tools + turns) may exceed this many tokens. */
  maxTokens: number;
  /** Turns of the previous sub-trajectory repeated at the start of the next one. */
  overlapTurns: number;
  counter: TokenCounter;
  /** Tool specs sent with every sample (they count against maxTokens). */
  tools?: ToolSpec[];
  /** The overlap may use at most this fraction of the room for turns (default 0.5), so every piece makes progress. */
  maxOverlapFraction?: number;
}

export interface Piece {
  /** Index of the first turn in this piece (overlap included). */
  first: number;
  /** Index of the first turn that is new in this piece (first + overlap). */
  from: number;
  /** One past the last turn. */
  to: number;
  /** Estimated tokens of head + tools + turns[first..to). */
  tokens: number;
}

export interface SplitResult {
  /** The turns as split (oversized ones shrunk, unfittable ones removed). */
  turns: Turn[];
  pieces: Piece[];
  /** Turns whose tool results or user messages were cut further to fit alone under maxTokens. */
  shrunk: number;
  /** Turns whose assistant message alone is over the room left by the head: left out. */
  dropped: number;
}

/**
 * Group a conversation body into turns: user* assistant tool*; trailing user messages form a last
 * turn. Works on our messages and on OpenAI wire messages alike (only `role` is read).
 */
export function groupTurns<M extends { role: string }>(body: readonly M[]): M[][] {
  const turns: M[][] = [];
  let cur: M[] = [];
  let hasAssistant = false;
  for (const m of body) {
    if (m.role !== 'tool' && hasAssistant) {
      turns.push(cur);
      cur = [];
      hasAssistant = false;
    }
    cur.push(m);
    if (m.role === 'assistant') hasAssistant = true;
  }
  if (cur.length) turns.push(cur);
  return turns;
}

export function toolsTokens(tools: readonly ToolSpec[], counter: TokenCounter): number {
  return tools.length ? counter.count(JSON.stringify(tools)) : 0;
}

function turnTokens(t: Turn, counter: TokenCounter): number {
  let n = 0;
  for (const m of t) n += messageTokens(m, counter);
  return n;
}

/**
 * Cut a turn's tool results and user messages (head + tail, like the context does) until it fits
 * in `room`; undefined when its assistant message alone does not.
 */
function shrinkTurn(
  t: Turn,
  room: number,
  counter: TokenCounter,
): { turn: Turn; tokens: number } | undefined {
  const fixed = t.filter((m) => m.role === 'assistant' || m.role === 'system');
  const fixedTokens = turnTokens(fixed, counter);
  const cuttable = t.length - fixed.length;
  if (fixedTokens + cuttable * 64 > room) return undefined;
  let chars = Math.max(...t.map((m) => (m.role === 'assistant' ? 0 : (m.content ?? '').length)));
  for (;;) {
    chars = Math.floor(chars * 0.7);
    const turn = t.map((m) =>
      m.role === 'assistant' || m.role === 'system' ? m : { ...m, content: capText(m.content, chars) },
    );
    const tokens = turnTokens(turn, counter);
    if (tokens <= room) return { turn, tokens };
    if (chars < 200) return undefined;
  }
}

/** Split a trajectory (head + body) into overlapping sub-trajectories of at most `maxTokens`. */
export function splitTrajectory(
  head: readonly ChatMessage[],
  body: readonly ChatMessage[],
  o: SplitOptions,
): SplitResult {
  if (!Number.isInteger(o.overlapTurns) || o.overlapTurns < 0)
    throw new Error(`The overlap must be a whole number of turns ≥ 0, got ${o.overlapTurns}.`);
  const fixed = turnTokens([...head], o.counter) + toolsTokens(o.tools ?? [], o.counter);
  const room = o.maxTokens - fixed;
  if (room < 256) {
    throw new Error(
      `The pinned head (system prompt, task, paper) and the tool specs take ~${fixed} tokens, leaving ${Math.max(0, room)} of --max-tokens ${o.maxTokens} for the turns; raise --max-tokens to at least ${fixed + 4096}.`,
    );
  }
  const turns: Turn[] = [];
  const sizes: number[] = [];
  let shrunk = 0;
  let dropped = 0;
  for (const t of groupTurns(body)) {
    const n = turnTokens(t, o.counter);
    if (n <= room) {
      turns.push(t);
      sizes.push(n);
      continue;
    }
    const s = shrinkTurn(t, room, o.counter);
    if (!s) {
      dropped++;
      continue;
    }
    shrunk++;
    turns.push(s.turn);
    sizes.push(s.tokens);
  }

  const overlapCap = room * (o.maxOverlapFraction ?? 0.5);
  const pieces: Piece[] = [];
  let i = 0;
  while (i < turns.length) {
    const prev = pieces[pieces.length - 1];
    let k = prev ? Math.min(o.overlapTurns, i - prev.first) : 0;
    let used = sum(sizes, i - k, i);
    // Leave room for at least one new turn, and keep the overlap from crowding out progress.
    while (k > 0 && (used + sizes[i]! > room || used > overlapCap)) {
      used -= sizes[i - k]!;
      k--;
    }
    let j = i;
    while (j < turns.length && used + sizes[j]! <= room) {
      used += sizes[j]!;
      j++;
    }
    pieces.push({ first: i - k, from: i, to: j, tokens: fixed + used });
    i = j;
  }
  return { turns, pieces, shrunk, dropped };
}

function sum(xs: number[], from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n += xs[i]!;
  return n;
}

/**
 * The inverse of the split: the turn sequence rebuilt from the pieces' messages alone (each given
 * with its overlap count), checking that every overlap repeats the end of what came before.
 */
export function rebuildTurns<M>(pieces: readonly { turns: M[][]; overlap: number }[]): M[][] {
  const out: M[][] = [];
  for (const [n, p] of pieces.entries()) {
    const repeated = p.turns.slice(0, p.overlap);
    const before = out.slice(out.length - p.overlap);
    if (JSON.stringify(repeated) !== JSON.stringify(before))
      throw new Error(
        `Piece ${n}: its first ${p.overlap} turns do not repeat the end of the previous piece.`,
      );
    out.push(...p.turns.slice(p.overlap));
  }
  return out;
}
