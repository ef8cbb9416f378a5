/** A proposed edit: one file the agent changed in the sandbox, against the sandbox's baseline. */
import { createHash } from 'node:crypto';
import type { ProposalSummary } from '../events/events';
import type { FileChange, Sandbox } from '../sandbox/sandbox';
import { computeHunks, type DiffStats, type Hunk, statsOf } from './hunks';
import { type SensitiveReason, sensitiveChange, sensitivePath } from './sensitive';
import { bytesEqual, type DecodedText, decodeText, type Eol, formatBytes, HUGE_FILE_BYTES } from './text';

export type ProposalKind = 'add' | 'modify' | 'delete' | 'binary';

export interface TextStyle {
  eol: Eol;
  bom: boolean;
}

export interface Proposal {
  /** Workspace-relative POSIX path (the new path of a rename). */
  path: string;
  kind: ProposalKind;
  /** What happened to the file in the sandbox; `kind` folds binary add/modify into 'binary'. */
  change: 'added' | 'modified' | 'deleted';
  /** Set when this added file has exactly the content of a deleted one: shown and decided as a rename. */
  renamedFrom?: string;
  /** Bumped on every update (agent change or partial decision); hunk indexes belong to one version. */
  version: number;
  /** Agent step of the last update. */
  step: number;
  /** LF-normalised baseline text; null when the file is new or not diffed (binary / huge). */
  before: string | null;
  /** LF-normalised proposed text; null when deleted or not diffed. */
  after: string | null;
  beforeStyle: TextStyle;
  afterStyle: TextStyle;
  /** No text diff: binary or huge. Such a file is accepted or rejected whole. */
  wholeFileOnly: boolean;
  hunks: Hunk[];
  stats: DiffStats;
  sizeBefore: number | null;
  sizeAfter: number | null;
  /** SHA-1 of the proposed bytes when they were read (huge files are compared by size). */
  digest: string | null;
  /** A sentence for the UI when the diff cannot show everything (binary, huge, rename, delete). */
  note?: string;
  /**
   * Set when the change touches what runs on the user's machine (git hooks, editor tasks,
   * devcontainer, CI, a new executable…; see sensitive.ts): it needs an explicit accept in every mode.
   */
  sensitive?: SensitiveReason;
}

const LF: TextStyle = { eol: '\n', bom: false };

export function summarize(p: Proposal): ProposalSummary {
  return {
    path: p.path,
    kind: p.kind,
    additions: p.stats.additions,
    deletions: p.stats.deletions,
    ...(p.renamedFrom ? { renamedFrom: p.renamedFrom } : {}),
    ...(p.sensitive ? { sensitive: p.sensitive } : {}),
  };
}

interface Side {
  bytes: Uint8Array | null;
  size: number | null;
  text: DecodedText | null;
  /** Too big to read or diff. */
  huge: boolean;
}

export interface BuildOptions {
  hugeBytes?: number;
}

/** Reads both sides of a change from the sandbox and diffs them. */
export async function buildProposal(
  sandbox: Sandbox,
  change: FileChange,
  step: number,
  opts: BuildOptions = {},
): Promise<Proposal> {
  const limit = opts.hugeBytes ?? HUGE_FILE_BYTES;
  const after: Side =
    change.kind === 'deleted'
      ? { bytes: null, size: null, text: null, huge: false }
      : change.size > limit
        ? { bytes: null, size: change.size, text: null, huge: true }
        : side(await sandbox.readFile(change.path), limit);
  // A deleted file's change carries its baseline size: a huge one is not read at all.
  const before: Side =
    change.kind === 'added'
      ? { bytes: null, size: null, text: null, huge: false }
      : change.kind === 'deleted' && change.size > limit
        ? { bytes: null, size: change.size, text: null, huge: true }
        : await baseline(sandbox, change, limit);
  return fromSides(change, before, after, step, change.binary);
}

async function baseline(sandbox: Sandbox, change: FileChange, limit: number): Promise<Side> {
  const bytes = await sandbox.baselineFile(change.path);
  if (bytes === null) return { bytes: null, size: null, text: null, huge: false };
  return side(bytes, limit);
}

function side(bytes: Uint8Array, limit: number): Side {
  if (bytes.length > limit) return { bytes: null, size: bytes.length, text: null, huge: true };
  return { bytes, size: bytes.length, text: decodeText(bytes), huge: false };
}

function fromSides(
  change: FileChange,
  before: Side,
  after: Side,
  step: number,
  binaryHint: boolean,
): Proposal {
  const huge = before.huge || after.huge;
  const notText =
    (before.bytes !== null && !before.text) || (after.bytes !== null && !after.text) || binaryHint;
  const wholeFileOnly = huge || notText;
  const base = {
    path: change.path,
    change: change.kind,
    version: 1,
    step,
    beforeStyle: before.text ? styleOf(before.text) : after.text ? styleOf(after.text) : LF,
    afterStyle: after.text ? styleOf(after.text) : before.text ? styleOf(before.text) : LF,
    sizeBefore: before.size,
    sizeAfter: after.size,
    digest: after.bytes ? createHash('sha1').update(after.bytes).digest('hex') : null,
    ...sensitiveField(sensitiveChange(change.path, change)),
  };
  if (wholeFileOnly) {
    const what = huge ? `Large file (over ${formatBytes(HUGE_FILE_BYTES)})` : 'Binary file';
    const sizes =
      change.kind === 'added'
        ? `new, ${formatBytes(after.size ?? change.size)}`
        : change.kind === 'deleted'
          ? `deleted, was ${formatBytes(before.size ?? 0)}`
          : `${formatBytes(before.size ?? 0)} → ${formatBytes(after.size ?? change.size)}`;
    return {
      ...base,
      kind: change.kind === 'deleted' ? 'delete' : 'binary',
      before: null,
      after: null,
      wholeFileOnly: true,
      hunks: [],
      stats: { additions: 0, deletions: 0 },
      note: `${what} (${sizes}): no text diff is shown. Accept or reject the whole file.`,
    };
  }
  const beforeText = before.text?.text ?? null;
  const afterText = after.text?.text ?? null;
  const hunks = computeHunks(beforeText ?? '', afterText ?? '');
  const kind: ProposalKind =
    change.kind === 'added' ? 'add' : change.kind === 'deleted' ? 'delete' : 'modify';
  const note =
    kind === 'delete'
      ? 'The agent deleted this file. Accept deletes it from your workspace; reject restores it in the container.'
      : hunks.length === 0 && kind === 'modify'
        ? 'The text is the same: only line endings, encoding or file mode changed.'
        : undefined;
  return {
    ...base,
    kind,
    before: beforeText,
    after: afterText,
    wholeFileOnly: false,
    hunks,
    stats: statsOf(hunks),
    ...(note ? { note } : {}),
  };
}

function sensitiveField(reason: SensitiveReason | undefined): { sensitive?: SensitiveReason } {
  return reason ? { sensitive: reason } : {};
}

function styleOf(t: DecodedText): TextStyle {
  return { eol: t.eol, bom: t.bom };
}

/** An added file with the content of a deleted one, as one proposal at the new path. */
export function asRename(added: Proposal, deleted: Proposal): Proposal {
  return {
    ...added,
    renamedFrom: deleted.path,
    before: added.after,
    beforeStyle: deleted.beforeStyle,
    hunks: [],
    stats: { additions: 0, deletions: 0 },
    // Moving a hook or a task away changes what runs as much as writing one.
    ...sensitiveField(added.sensitive ?? sensitivePath(deleted.path)),
    note: `Renamed from ${deleted.path} (content unchanged). Accept moves the file in your workspace.`,
  };
}

/** Pairs deleted and added paths with identical content; returns added path → deleted path. */
export async function findRenames(sandbox: Sandbox, changes: FileChange[], limit = HUGE_FILE_BYTES) {
  const pairs = new Map<string, string>();
  const added = changes.filter((c) => c.kind === 'added' && c.size <= limit);
  const deleted = changes.filter((c) => c.kind === 'deleted');
  if (added.length === 0 || deleted.length === 0) return pairs;
  // Only deletions whose size some addition shares are read (a size of 0 may mean "unknown").
  const sizes = new Set(added.map((a) => a.size));
  const gone: { path: string; bytes: Uint8Array }[] = [];
  for (const d of deleted) {
    if (d.size > limit || (d.size > 0 && !sizes.has(d.size))) continue;
    const bytes = await sandbox.baselineFile(d.path);
    if (bytes && bytes.length <= limit) gone.push({ path: d.path, bytes });
  }
  for (const a of added) {
    const candidates = gone.filter((g) => g.bytes.length === a.size);
    if (candidates.length === 0) continue;
    const bytes = await sandbox.readFile(a.path);
    const match = candidates.find((g) => bytesEqual(g.bytes, bytes));
    if (!match) continue;
    pairs.set(a.path, match.path);
    gone.splice(gone.indexOf(match), 1);
  }
  return pairs;
}

/** Same content as another build of the same path (nothing new to show). */
export function sameContent(a: Proposal, b: Proposal): boolean {
  return (
    a.kind === b.kind &&
    a.change === b.change &&
    a.before === b.before &&
    a.after === b.after &&
    a.sizeBefore === b.sizeBefore &&
    a.sizeAfter === b.sizeAfter &&
    a.digest === b.digest &&
    a.renamedFrom === b.renamedFrom &&
    a.sensitive === b.sensitive
  );
}
