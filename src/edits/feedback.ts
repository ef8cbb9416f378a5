/** What the agent is told when the user rejects its edits (its next observation). */
import { describeHunk, type Hunk } from './hunks';
import type { Proposal } from './proposal';

function because(reason: string | undefined): string {
  const r = reason?.trim().replace(/[.\s]+$/, '');
  return r ? `: ${r}.` : '.';
}

/** `acceptedBefore`: the user accepted some of this file's changes earlier (they stay). */
export function rejectedFileText(p: Proposal, reason?: string, acceptedBefore = false): string {
  if (acceptedBefore && p.change === 'modified' && !p.wholeFileOnly) {
    const where = p.hunks.map(describeHunk).join(', ');
    return (
      `User rejected the remaining changes to ${p.path} (${where})${because(reason)} ` +
      'They were reverted in the container; the changes the user accepted earlier stay.'
    );
  }
  if (p.renamedFrom) {
    return `User rejected renaming ${p.renamedFrom} to ${p.path}${because(reason)} Both files were restored in the container.`;
  }
  const what =
    p.change === 'added'
      ? 'The file was removed from the container.'
      : p.change === 'deleted'
        ? 'The file was restored in the container.'
        : 'The file was reverted in the container.';
  return `User rejected the edit to ${p.path}${because(reason)} ${what}`;
}

export function rejectedHunksText(p: Proposal, rejected: Hunk[], reason?: string): string {
  const where = rejected.map(describeHunk).join(', ');
  const n = rejected.length;
  return (
    `User rejected ${n} of ${p.hunks.length} changes to ${p.path} (${where})${because(reason)} ` +
    `${n === 1 ? 'That change was' : 'Those changes were'} reverted in the container; the other changes to the file are kept.`
  );
}
