/**
 * Pending proposals as a patch for `git apply`, when the sandbox cannot have git write it (see
 * DockerSandbox.pendingPatch): text proposals only, paths quoted the way git quotes them.
 */
import { createTwoFilesPatch } from 'diff';
import { encodePath } from '../sandbox/path-bytes';
import type { Proposal } from './proposal';

const ESCAPES: Record<number, string> = {
  7: '\\a',
  8: '\\b',
  9: '\\t',
  10: '\\n',
  11: '\\v',
  12: '\\f',
  13: '\\r',
  34: '\\"',
  92: '\\\\',
};

/**
 * A path as git prints it in a patch header (quote_c_style with core.quotePath on): as is when it
 * is plain printable ASCII, otherwise in double quotes with C escapes and octal for other bytes.
 */
export function gitQuotePath(path: string): string {
  const bytes = encodePath(path);
  if (bytes.every((b) => b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c)) return path;
  let out = '"';
  for (const b of bytes) {
    if (ESCAPES[b]) out += ESCAPES[b];
    else if (b < 0x20 || b >= 0x7f) out += `\\${b.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(b);
  }
  return `${out}"`;
}

/**
 * Text proposals (not the whole-file-only ones) as one patch in the traditional unified form
 * (`git apply` strips the a/ b/ prefixes); new and deleted files against /dev/null, a rename as the
 * old file's deletion and the new one's creation.
 */
export function proposalsPatch(proposals: Proposal[]): string {
  const parts: string[] = [];
  const one = (from: string | null, to: string | null, before: string, after: string) => {
    const a = from === null ? '/dev/null' : gitQuotePath(`a/${from}`);
    const b = to === null ? '/dev/null' : gitQuotePath(`b/${to}`);
    const body = createTwoFilesPatch(a, b, before, after);
    // jsdiff starts with "Index:" and "===" lines that git apply does not need.
    parts.push(body.slice(body.indexOf('--- ')));
  };
  for (const p of proposals) {
    if (p.wholeFileOnly) continue;
    if (p.renamedFrom) {
      one(p.renamedFrom, null, p.before ?? '', '');
      one(null, p.path, '', p.after ?? '');
    } else
      one(p.before === null ? null : p.path, p.after === null ? null : p.path, p.before ?? '', p.after ?? '');
  }
  return parts.join('');
}
