/**
 * Accepting and rejecting one proposal, whole or by hunks. Invariant kept in the sandbox: the
 * baseline is what the user accepted, the container file is baseline + still-pending hunks
 * (rejected hunks are reverted there). The user's file gets the accepted hunks merged three-way
 * into whatever it holds now; a conflict is reported and nothing is written unless the caller
 * chose a policy for it.
 */
import type { Sandbox } from '../sandbox/sandbox';
import { rejectedFileText, rejectedHunksText } from './feedback';
import { applyHunks, computeHunks, type Hunk, statsOf } from './hunks';
import { type MergeResult, merge3 } from './merge';
import type { Proposal, TextStyle } from './proposal';
import { bytesEqual, type DecodedText, decodeText, encodeText, fromString, toStyle } from './text';
import { hostBlobId, type UserContent, type UserFiles } from './user-files';

/** What to do when the user's file cannot be merged cleanly: report (default), write conflict markers, or overwrite. */
export type ConflictPolicy = 'report' | 'markers' | 'overwrite';

export type Outcome =
  | {
      status: 'accepted' | 'rejected';
      path: string;
      message: string;
      /** Hunks still pending in this file (0 = the proposal is resolved). */
      remaining: number;
      /** The user's own changes were merged with the proposal. */
      merged?: boolean;
      /** Conflict markers were written into the user's file. */
      markers?: boolean;
      /** For a rejection: the user's reason and the observation text for the agent. */
      reason?: string;
      feedback?: string;
    }
  | { status: 'conflict'; path: string; message: string; merge: MergeResult | null }
  | { status: 'stale' | 'not-found' | 'error'; path: string; message: string };

export interface Decided {
  outcome: Outcome;
  /** The proposal after a partial decision; null when resolved; undefined when unchanged. */
  next?: Proposal | null;
}

export interface DecideContext {
  sandbox: Sandbox;
  user: UserFiles;
}

const encoder = new TextEncoder();

function asBytes(c: UserContent): Uint8Array {
  return typeof c === 'string' ? encoder.encode(c) : c;
}

function decodeUser(c: UserContent): DecodedText | null {
  return typeof c === 'string' ? fromString(c) : decodeText(c);
}

/** Writes text back in the form it was read: a string for an editor, bytes for a file. */
function like(read: UserContent | null, text: string, style: TextStyle): UserContent {
  return typeof read === 'string' ? toStyle(text, style) : encodeText(text, style);
}

function conflict(p: Proposal, message: string, merge: MergeResult | null = null): Decided {
  return { outcome: { status: 'conflict', path: p.path, message, merge } };
}

async function applyUser(ctx: DecideContext, p: Proposal, edits: Parameters<UserFiles['apply']>[0]) {
  if (edits.length === 0) return true;
  return ctx.user.apply(edits, `KLong: accept edit to ${p.path}`);
}

function refused(p: Proposal): Decided {
  return {
    outcome: {
      status: 'error',
      path: p.path,
      message: `The workspace refused the edit to ${p.path}; nothing changed.`,
    },
  };
}

/** `chosen` null = every hunk (the whole file). */
export async function accept(
  ctx: DecideContext,
  p: Proposal,
  chosen: Set<number> | null,
  policy: ConflictPolicy,
): Promise<Decided> {
  if (p.renamedFrom) return acceptRename(ctx, p, policy);
  if (p.change === 'deleted') return acceptDelete(ctx, p, policy);
  if (p.wholeFileOnly || p.after === null) return acceptBytes(ctx, p, policy);
  const all = chosen === null || p.hunks.every((h) => chosen.has(h.index));
  const base = p.before ?? '';
  const theirs = all ? p.after : applyHunks(base, p.after, p.hunks, (h) => chosen.has(h.index));
  const read = await ctx.user.read(p.path);
  let text = theirs;
  let merged = false;
  let markers = false;
  let style: TextStyle = p.before !== null ? p.beforeStyle : p.afterStyle;
  if (read === null) {
    if (p.before !== null && policy !== 'overwrite') {
      return conflict(
        p,
        `You deleted ${p.path} from the workspace after the agent changed it; accepting would re-create it.`,
      );
    }
  } else {
    const ours = decodeUser(read);
    if (!ours) {
      if (policy !== 'overwrite')
        return conflict(p, `${p.path} in your workspace is not a text file; it cannot be merged.`);
    } else {
      style = { eol: ours.eol, bom: ours.bom };
      const m = merge3(base, ours.text, theirs);
      if (!m.clean) {
        const n = m.conflicts.length;
        if (policy === 'report') {
          return conflict(
            p,
            `${p.path} changed in your workspace since the agent's proposal, and ${n} ${n === 1 ? 'change overlaps' : 'changes overlap'} it. Nothing was written.`,
            m,
          );
        }
        text = policy === 'markers' ? m.text : theirs;
        markers = policy === 'markers';
      } else {
        text = m.text;
        merged = ours.text !== base && ours.text !== theirs;
      }
    }
  }
  const unchanged = read !== null && decodeUser(read)?.text === text;
  if (!unchanged && !(await applyUser(ctx, p, [{ path: p.path, content: like(read, text, style) }])))
    return refused(p);

  if (all) await ctx.sandbox.acceptIntoBaseline([p.path]);
  else {
    // The baseline takes only the accepted hunks; the container goes back to baseline + pending.
    await ctx.sandbox.writeFile(p.path, encodeText(theirs, p.afterStyle));
    await ctx.sandbox.acceptIntoBaseline([p.path]);
    await ctx.sandbox.writeFile(p.path, encodeText(p.after, p.afterStyle));
  }
  const next = all ? null : rebase(p, theirs);
  const count = all ? p.hunks.length : chosen.size;
  const how = markers ? ' with conflict markers to resolve' : merged ? ', merged with your changes' : '';
  return {
    outcome: {
      status: 'accepted',
      path: p.path,
      message: all
        ? `Accepted ${p.path}${how}.`
        : `Accepted ${count} of ${p.hunks.length} changes to ${p.path}${how}.`,
      remaining: next?.hunks.length ?? 0,
      merged,
      markers,
    },
    next,
  };
}

/** The proposal once `newBefore` became the baseline. */
function rebase(p: Proposal, newBefore: string): Proposal | null {
  const hunks = computeHunks(newBefore, p.after ?? '');
  if (hunks.length === 0) return null;
  return {
    ...p,
    before: newBefore,
    beforeStyle: p.afterStyle,
    hunks,
    stats: statsOf(hunks),
    version: p.version + 1,
  };
}

async function acceptDelete(ctx: DecideContext, p: Proposal, policy: ConflictPolicy): Promise<Decided> {
  const changed = await userChangedDeleted(ctx, p);
  if (changed !== undefined) {
    if (changed && policy !== 'overwrite') {
      return conflict(
        p,
        `You changed ${p.path} after the agent deleted it. Keep your file (reject) or delete it anyway.`,
      );
    }
    if (!(await applyUser(ctx, p, [{ path: p.path, content: null }]))) return refused(p);
  }
  await ctx.sandbox.acceptIntoBaseline([p.path]);
  return {
    outcome: { status: 'accepted', path: p.path, message: `Deleted ${p.path}.`, remaining: 0 },
    next: null,
  };
}

/** Whether the user's copy of a file the agent deleted differs from the baseline; undefined when the user has none. */
async function userChangedDeleted(ctx: DecideContext, p: Proposal): Promise<boolean | undefined> {
  const io = p.before === null ? streamed(ctx) : undefined;
  if (io) {
    // Not diffed (binary or large): compared by blob id, never read whole.
    const mine = await io.user.fileId(p.path);
    return mine === null ? undefined : mine.id !== (await io.sandbox.baselineId(p.path));
  }
  const read = await ctx.user.read(p.path);
  if (read === null) return undefined;
  return p.before !== null
    ? decodeUser(read)?.text !== p.before
    : !bytesEqual(asBytes(read), await ctx.sandbox.baselineFile(p.path));
}

type Streamed = {
  sandbox: Required<Pick<Sandbox, 'fileId' | 'baselineId' | 'exportFile'>>;
  user: Required<Pick<UserFiles, 'fileId' | 'writeFrom'>>;
};

/** Both sides can compare by blob id and copy file to file: nothing is held in memory whole. */
function streamed(ctx: DecideContext): Streamed | undefined {
  const { sandbox: s, user: u } = ctx;
  if (!s.fileId || !s.baselineId || !s.exportFile || !u.fileId || !u.writeFrom) return undefined;
  return {
    sandbox: {
      fileId: s.fileId.bind(s),
      baselineId: s.baselineId.bind(s),
      exportFile: s.exportFile.bind(s),
    },
    user: { fileId: u.fileId.bind(u), writeFrom: u.writeFrom.bind(u) },
  };
}

async function acceptBytesStreamed(
  ctx: DecideContext,
  io: Streamed,
  p: Proposal,
  policy: ConflictPolicy,
): Promise<Decided> {
  const theirs = await io.sandbox.fileId(p.path);
  if (!theirs) throw new Error(`${p.path} is no longer in the sandbox.`);
  const base = p.change === 'added' ? null : await io.sandbox.baselineId(p.path);
  const mine = (await io.user.fileId(p.path))?.id ?? null;
  if (mine !== base && mine !== theirs.id && policy !== 'overwrite') {
    return conflict(
      p,
      `${p.path} changed in your workspace since the agent's proposal. It is not diffable text, so it cannot be merged: overwrite it with the agent's version, or reject.`,
    );
  }
  if (mine !== theirs.id) {
    const ok = await io.user.writeFrom(
      p.path,
      async (tmp) => {
        await io.sandbox.exportFile(p.path, tmp);
        // What the baseline takes next must be what the user got.
        if ((await hostBlobId(tmp)).id !== theirs.id)
          throw new Error(`the agent changed ${p.path} while it was copied; decide again.`);
      },
      `KLong: accept edit to ${p.path}`,
    );
    if (!ok) return refused(p);
  }
  await ctx.sandbox.acceptIntoBaseline([p.path]);
  return {
    outcome: { status: 'accepted', path: p.path, message: `Accepted ${p.path} (whole file).`, remaining: 0 },
    next: null,
  };
}

async function acceptBytes(ctx: DecideContext, p: Proposal, policy: ConflictPolicy): Promise<Decided> {
  const io = streamed(ctx);
  if (io) return acceptBytesStreamed(ctx, io, p, policy);
  const bytes = await ctx.sandbox.readFile(p.path);
  const base = p.change === 'added' ? null : await ctx.sandbox.baselineFile(p.path);
  const read = await ctx.user.read(p.path);
  const mine = read === null ? null : asBytes(read);
  if (!bytesEqual(mine, base) && !bytesEqual(mine, bytes) && policy !== 'overwrite') {
    return conflict(
      p,
      `${p.path} changed in your workspace since the agent's proposal. It is not diffable text, so it cannot be merged: overwrite it with the agent's version, or reject.`,
    );
  }
  if (!bytesEqual(mine, bytes) && !(await applyUser(ctx, p, [{ path: p.path, content: bytes }])))
    return refused(p);
  await ctx.sandbox.acceptIntoBaseline([p.path]);
  return {
    outcome: { status: 'accepted', path: p.path, message: `Accepted ${p.path} (whole file).`, remaining: 0 },
    next: null,
  };
}

async function acceptRename(ctx: DecideContext, p: Proposal, policy: ConflictPolicy): Promise<Decided> {
  const from = p.renamedFrom!;
  const old = await ctx.user.read(from);
  const target = await ctx.user.read(p.path);
  // The content did not change, so the user's current old file (with any edits of theirs) moves as is.
  const content: UserContent = old ?? (await ctx.sandbox.readFile(p.path));
  if (target !== null && !bytesEqual(asBytes(target), asBytes(content)) && policy !== 'overwrite') {
    return conflict(
      p,
      `${p.path} already exists in your workspace with other content; the rename would overwrite it.`,
    );
  }
  const edits = [...(old !== null ? [{ path: from, content: null }] : []), { path: p.path, content }];
  if (!(await applyUser(ctx, p, edits))) return refused(p);
  await ctx.sandbox.acceptIntoBaseline([from, p.path]);
  return {
    outcome: { status: 'accepted', path: p.path, message: `Renamed ${from} to ${p.path}.`, remaining: 0 },
    next: null,
  };
}

/** `chosen` null = the whole file. */
export async function reject(
  ctx: DecideContext,
  p: Proposal,
  chosen: Set<number> | null,
  reason: string | undefined,
  acceptedBefore = false,
): Promise<Decided> {
  const all =
    chosen === null || p.wholeFileOnly || p.after === null || p.hunks.every((h) => chosen.has(h.index));
  if (all) {
    await ctx.sandbox.revert(p.path);
    if (p.renamedFrom) await ctx.sandbox.revert(p.renamedFrom);
    const feedback = rejectedFileText(p, reason, acceptedBefore);
    return {
      outcome: {
        status: 'rejected',
        path: p.path,
        message: `Rejected ${p.path}.`,
        remaining: 0,
        reason,
        feedback,
      },
      next: null,
    };
  }
  const base = p.before ?? '';
  const kept = applyHunks(base, p.after!, p.hunks, (h) => !chosen.has(h.index));
  const gone: Hunk[] = p.hunks.filter((h) => chosen.has(h.index));
  await ctx.sandbox.writeFile(p.path, encodeText(kept, p.afterStyle));
  const hunks = computeHunks(base, kept);
  const next: Proposal | null =
    hunks.length === 0 ? null : { ...p, after: kept, hunks, stats: statsOf(hunks), version: p.version + 1 };
  const feedback = rejectedHunksText(p, gone, reason);
  return {
    outcome: {
      status: 'rejected',
      path: p.path,
      message: `Rejected ${gone.length} of ${p.hunks.length} changes to ${p.path}.`,
      remaining: next?.hunks.length ?? 0,
      reason,
      feedback,
    },
    next,
  };
}
