/**
 * `<session>/view-model.json`: the session model folded up to an event (SessionModel.checkpoint()),
 * written by a window that follows the session. The next window that follows it starts there and
 * folds only the events after it, so following a long session costs the same as a short one; the
 * older timeline rows are read from the log when the view scrolls to them. It is a cache: whatever it
 * says is checked against the log, and a window that cannot use it folds the whole log.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentEvent } from '../../events/events';
import { EventLog } from '../../session';
import type { EventSource, ModelCore } from './session-model';

/** A model a session's log is folded into (SessionModel fits; the optional parts make it fast). */
export interface LogModel {
  reset(): void;
  applyAll(events: Iterable<AgentEvent>): void;
  /** Start from a checkpoint; the rows before it are read from `source` when shown. */
  restore?(core: ModelCore, source: EventSource): void;
  /** Where rows and details no longer in memory are read from. */
  setSource?(source: EventSource): void;
  /** Fold events without making their timeline rows (made from `source` when shown). */
  skim?(events: Iterable<AgentEvent>, source: EventSource): void;
}

/** Without a checkpoint, the newest events whose rows are made at once; the older ones are skimmed. */
const TAIL_EVENTS = 2000;

/**
 * Fold the log of a session into `model` (reset first): from the checkpoint a window left when it is
 * still true of the log, then the events after it; else the whole log, the older events skimmed.
 * `seen` sees every event folded (a follow drops the ones the engine sends again).
 */
export function foldLog(
  model: LogModel,
  log: EventLog,
  hooks: { restored?(core: ModelCore): void; seen?(events: Iterable<AgentEvent>): Iterable<AgentEvent> } = {},
): void {
  const seen = hooks.seen ?? ((it: Iterable<AgentEvent>) => it);
  const source = logSource(log.dir);
  model.reset();
  const core = model.restore ? readModelCheckpoint(log.dir, log) : undefined;
  let from = 0;
  if (core && model.restore) {
    model.restore(core, source);
    hooks.restored?.(core);
    from = core.seq + 1;
  } else {
    model.setSource?.(source);
    const skimTo = log.durableCount - TAIL_EVENTS;
    if (model.skim && skimTo > 0) {
      model.skim(seen(log.iterate(0, skimTo)), source);
      from = skimTo;
    }
  }
  model.applyAll(seen(log.iterate(from)));
}

export const MODEL_CHECKPOINT_FILE = 'view-model.json';
const VERSION = 1;

interface CheckpointFile {
  klong: 'view-model';
  version: number;
  sessionId: string;
  /** The log's creation time: a log made again (a migration) is another log. */
  logCreatedAt: number;
  core: ModelCore;
}

/** Events of the session in `dir`, read from its log at each call (the engine appends meanwhile). */
export function logSource(dir: string): EventSource {
  return {
    read(from: number, to: number): AgentEvent[] {
      const log = EventLog.open(dir, { mode: 'read' });
      try {
        return log.read(from, to);
      } finally {
        log.close();
      }
    },
  };
}

/** The checkpoint of the session whose log is `log`, when it is still true of that log. */
export function readModelCheckpoint(dir: string, log: EventLog): ModelCore | undefined {
  let file: CheckpointFile;
  try {
    file = JSON.parse(readFileSync(join(dir, MODEL_CHECKPOINT_FILE), 'utf8')) as CheckpointFile;
  } catch {
    return undefined;
  }
  const core = file?.core;
  if (
    file?.klong !== 'view-model' ||
    file.version !== VERSION ||
    file.sessionId !== log.sessionId ||
    file.logCreatedAt !== log.header.createdAt ||
    typeof core?.seq !== 'number' ||
    !Array.isArray(core.anchors) ||
    core.seq >= log.durableCount
  ) {
    return undefined;
  }
  try {
    // The event it ends with is in the log as it was folded.
    const last = log.read(core.seq, core.seq + 1)[0];
    return last && last.ts === core.ts ? core : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Write `core` as the checkpoint of the session in `dir` when the log already holds its last event
 * (events reach the log at the end of their step; a checkpoint ahead of the log is of no use). False
 * when it was not written.
 */
export function writeModelCheckpoint(dir: string, core: ModelCore): boolean {
  const log = EventLog.open(dir, { mode: 'read' });
  let file: CheckpointFile;
  try {
    // Not ahead of the log, and of this session (a model reused for another one must not write here).
    if (core.seq >= log.durableCount || core.state.session?.id !== log.sessionId) return false;
    file = {
      klong: 'view-model',
      version: VERSION,
      sessionId: log.sessionId,
      logCreatedAt: log.header.createdAt,
      core,
    };
  } finally {
    log.close();
  }
  // Two windows may follow one session: each writes a temp file of its own, the rename is atomic.
  const path = join(dir, MODEL_CHECKPOINT_FILE);
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(file), { mode: 0o600 });
    renameSync(tmp, path);
    return true;
  } catch {
    rmSync(tmp, { force: true });
    return false;
  }
}
