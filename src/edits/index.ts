/** Proposed edits: the agent's sandbox changes as reviewable proposals (no `vscode` here). */
export type { ConflictPolicy, Outcome } from './decide';
export { rejectedFileText, rejectedHunksText } from './feedback';
export { applyHunks, computeHunks, type DiffStats, describeHunk, type Hunk, statsOf } from './hunks';
export { type ConflictRegion, type MergeResult, merge3 } from './merge';
export { gitQuotePath, proposalsPatch } from './patch';
export { buildProposal, type Proposal, type ProposalKind, summarize, type TextStyle } from './proposal';
export {
  type AfterToolResult,
  type AfterToolWait,
  APPROVAL_MODES,
  type ApprovalMode,
  type DecideFn,
  type DecideOptions,
  type Decision,
  EditQueue,
  type EditQueueOptions,
} from './queue';
export { decodeText, dominantEol, type Eol, fromString, HUGE_FILE_BYTES, splitLines, toStyle } from './text';
export { DirUserFiles, type UserContent, type UserFileEdit, type UserFiles } from './user-files';
