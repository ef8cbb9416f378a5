/**
 * `klong export-sft`: sessions → SFT samples in OpenAI's chat fine-tuning format, one JSON line per
 * sub-trajectory (KLong's trajectory splitting, see agent/context/trajectory-split.ts). The conversation is
 * rebuilt from the event log as the agent saw it (tool results capped as in its context), but
 * without the inference-time windows: the export does its own split to the training length.
 * Assistant messages of the overlap carry `weight: 0`: each is trained on once, in the piece that
 * adds it, and seen again only as context.
 */
import { closeSync, existsSync, openSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type ContextConfig, ContextManager } from '../agent/context';
import { splitTrajectory } from '../agent/context/trajectory-split';
import { emptyProgress } from '../agent/progress-note';
import { applyEvent, emptyTotals, type LoopState } from '../agent/replay';
import { defaultTools, toolSpecs } from '../agent/tools';
import { toWire, toWireTool } from '../llm/openai-client';
import { estimateCounter, type TokenCounter } from '../llm/tokens';
import type { ChatMessage, ToolSpec } from '../llm/types';
import { EventLog } from '../session/event-log';
import { writeAll, writeDurableTemp } from '../session/fsutil';
import { FILES } from '../session/schema';
import { readSnapshots } from '../session/snapshot';
import { emptySummary, foldSummary } from '../session/summary';

export interface SftOptions {
  /** No line (head + tools + turns) exceeds this many estimated tokens. */
  maxTokens: number;
  /** Turns of the previous sub-trajectory repeated at the start of the next. */
  overlapTurns: number;
  /** Leave out tool calls that failed (and their results). */
  dropFailedTools?: boolean;
  counter?: TokenCounter;
  /** Tool specs put on every line (default: the agent's default tools). */
  tools?: ToolSpec[];
}

export interface SftSessionStats {
  sessionId: string;
  dir: string;
  /** Lines (sub-trajectories) written. */
  pieces: number;
  turns: number;
  /** Largest line, in estimated tokens. */
  maxPieceTokens: number;
  shrunkTurns: number;
  droppedTurns: number;
  droppedCalls: number;
  /** The session's rubric score (its reward), if graded. */
  score: number | null;
}

/** Metadata on every line, beside `messages` and `tools`. */
export interface SftLineMeta {
  session: string;
  piece: number;
  pieces: number;
  /** Turns [first, to) of the session's trajectory in this line; the first `overlapTurns` repeat the previous line. */
  turns: [number, number];
  overlapTurns: number;
  /** Messages of the pinned head at the start of `messages`. */
  headMessages: number;
  tokens: number;
  score: number | null;
  endReason: string | null;
  paper: string;
}

interface Conversation {
  sessionId: string;
  head: ChatMessage[];
  body: ChatMessage[];
  droppedCalls: number;
  score: number | null;
  endReason: string | null;
  paper: string;
}

const noCount: TokenCounter = { count: () => 0 };

function isHead(v: unknown): v is ChatMessage[] {
  return Array.isArray(v) && v.length > 0 && v.every((m) => typeof (m as ChatMessage)?.role === 'string');
}

/** The full conversation of a session, from its log and the pinned head kept in its snapshots. */
export function readConversation(dir: string, dropFailedTools = false): Conversation {
  if (!existsSync(join(dir, FILES.events)))
    throw new Error(`${dir} is not a session folder (no ${FILES.events}).`);
  let state: { head: ChatMessage[]; config: ContextConfig } | undefined;
  for (const c of readSnapshots(dir)) {
    const ctx = (c.snapshot?.state as { context?: { head?: unknown; config?: ContextConfig } } | undefined)
      ?.context;
    if (ctx && isHead(ctx.head) && ctx.config) {
      state = { head: ctx.head, config: ctx.config };
      break;
    }
  }
  if (!state) {
    throw new Error(
      `Session ${dir} has no snapshot with its pinned head (system prompt, task, paper): it was not written by the agent, or it stopped before its first step.`,
    );
  }
  const log = EventLog.open(dir, { mode: 'read' });
  // Token counts are not needed here (the split counts); the manager only rebuilds the messages.
  const cm = new ContextManager(state.head, noCount, state.config);
  const st: LoopState = { step: 0, progress: emptyProgress(), totals: emptyTotals(), lastEstimate: 0 };
  const summary = emptySummary(log.sessionId, log.header.createdAt);
  const failed = new Set<string>();
  try {
    for (const e of log.iterate(0, log.durableCount)) {
      foldSummary(summary, e);
      if (e.type === 'tool_result' && !e.ok) failed.add(e.callId);
      // Inference-time windows are not part of the trajectory: the export splits it its own way.
      if (e.type !== 'split') applyEvent(e, cm, st);
    }
  } finally {
    log.close();
  }
  let body = [...cm.body];
  let droppedCalls = 0;
  if (dropFailedTools && failed.size) {
    const out: ChatMessage[] = [];
    for (const m of body) {
      if (m.role === 'tool') {
        if (!failed.has(m.toolCallId)) out.push(m);
      } else if (m.role === 'assistant' && m.toolCalls?.length) {
        const kept = m.toolCalls.filter((c) => !failed.has(c.id));
        droppedCalls += m.toolCalls.length - kept.length;
        if (kept.length) out.push({ ...m, toolCalls: kept });
        // Every call failed: the message was only those calls, so it goes with them.
      } else out.push(m);
    }
    body = out;
  }
  return {
    sessionId: log.sessionId,
    head: [...cm.head],
    body,
    droppedCalls,
    score: summary.lastScore,
    endReason: summary.endReason ?? null,
    paper: summary.paperTitle,
  };
}

/** One session's SFT lines (JSON text, no newline) and what the split did. */
export function sftLines(dir: string, o: SftOptions): { lines: string[]; stats: SftSessionStats } {
  const counter = o.counter ?? estimateCounter;
  const tools = o.tools ?? toolSpecs(defaultTools());
  const conv = readConversation(dir, o.dropFailedTools);
  const split = splitTrajectory(conv.head, conv.body, {
    maxTokens: o.maxTokens,
    overlapTurns: o.overlapTurns,
    counter,
    tools,
  });
  const wireHead = conv.head.map(toWire);
  const wireTools = tools.map(toWireTool);
  const lines: string[] = [];
  let maxPieceTokens = 0;
  for (const [n, p] of split.pieces.entries()) {
    const messages: unknown[] = [...wireHead];
    for (let t = p.first; t < p.to; t++) {
      for (const m of split.turns[t]!) {
        const w = toWire(m);
        messages.push(t < p.from && m.role === 'assistant' ? { ...w, weight: 0 } : w);
      }
    }
    const metadata: SftLineMeta = {
      session: conv.sessionId,
      piece: n,
      pieces: split.pieces.length,
      turns: [p.first, p.to],
      overlapTurns: p.from - p.first,
      headMessages: wireHead.length,
      tokens: p.tokens,
      score: conv.score,
      endReason: conv.endReason,
      paper: conv.paper,
    };
    maxPieceTokens = Math.max(maxPieceTokens, p.tokens);
    lines.push(JSON.stringify({ messages, tools: wireTools, metadata }));
  }
  return {
    lines,
    stats: {
      sessionId: conv.sessionId,
      dir,
      pieces: split.pieces.length,
      turns: split.turns.length,
      maxPieceTokens,
      shrunkTurns: split.shrunk,
      droppedTurns: split.dropped,
      droppedCalls: conv.droppedCalls,
      score: conv.score,
    },
  };
}

/** Export sessions (directories) to one JSONL file; it appears atomically when complete. */
export function exportSft(
  dirs: string[],
  outPath: string,
  o: SftOptions,
): { sessions: SftSessionStats[]; lines: number; bytes: number } {
  const tmp = writeDurableTemp(outPath, '', true);
  const fd = openSync(tmp, 'r+');
  const sessions: SftSessionStats[] = [];
  let bytes = 0;
  let lines = 0;
  try {
    for (const dir of dirs) {
      const r = sftLines(dir, o);
      sessions.push(r.stats);
      if (!r.lines.length) continue;
      const b = Buffer.from(`${r.lines.join('\n')}\n`);
      writeAll(fd, b, bytes);
      bytes += b.length;
      lines += r.lines.length;
    }
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, outPath);
  return { sessions, lines, bytes };
}
