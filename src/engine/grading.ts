/**
 * The end of a session: the submission as the judge sees it (read from the container copy), the
 * grade against the rubric, and the report that is proposed to the user as REPRODUCTION.md.
 */
import type { ModelClient } from '../llm/types';
import {
  type BlacklistHit,
  flaggedLine,
  type GradeResult,
  gradeSubmission,
  type Paper,
  type RubricNode,
  renderFindings,
  renderReport,
} from '../paper';
import type { FinalRunEvidence } from '../paper/grading/evidence';
import type { LeafProgress } from '../paper/grading/grade';
import type { SubmissionFile } from '../paper/grading/submission';
import type { Sandbox } from '../sandbox/sandbox';

const SKIP = ['.git', 'node_modules', '__pycache__', '.venv', 'venv', '.ipynb_checkpoints', '.pytest_cache'];

/** Text files of the container's workspace copy (binary and large files skipped). */
export async function readSubmission(
  sandbox: Sandbox,
  opts: { maxFileBytes?: number; maxFiles?: number } = {},
): Promise<SubmissionFile[]> {
  const maxBytes = opts.maxFileBytes ?? 200_000;
  const maxFiles = opts.maxFiles ?? 500;
  const prune = SKIP.map((d) => `-name ${d}`).join(' -o ');
  const listing = await sandbox.exec(
    `cd ${sandbox.workdir} && find . \\( ${prune} \\) -prune -o -type f -size -${maxBytes}c -print | head -n ${maxFiles}`,
    { timeoutMs: 60_000, outputCap: 1_000_000 },
  );
  const files: SubmissionFile[] = [];
  for (const line of listing.output.split('\n')) {
    const path = line.trim().replace(/^\.\//, '');
    if (!path) continue;
    const bytes = await sandbox.readFile(path).catch(() => undefined);
    if (!bytes || bytes.includes(0)) continue; // unreadable or binary
    files.push({ path, content: Buffer.from(bytes).toString('utf8') });
  }
  return files;
}

export interface GradeRunOptions {
  client: ModelClient;
  sandbox: Sandbox;
  paper: Paper;
  rubric: RubricNode;
  reproduceLog?: string;
  /** The final run of reproduce.sh, when there was one: no script, a failure or no output decides Execution/Result leaves. */
  finalRun?: FinalRunEvidence;
  /** The blacklist monitor's findings: listed in the grade, which they flag for review. */
  blacklistHits?: BlacklistHit[];
  cacheDir: string;
  /**
   * The early-end check: no final run, so the evidence decides Execution/Result leaves from the
   * workspace alone (no reproduce.sh: 0) and the judge is shown the workspace's own reproduce.log.
   */
  workspaceEvidence?: boolean;
  /** Judge calls in flight at once (the grader's default when absent). */
  concurrency?: number;
  signal?: AbortSignal;
  onLeaf?: (progress: LeafProgress) => void;
}

export async function gradeInSandbox(o: GradeRunOptions): Promise<GradeResult> {
  const files = await readSubmission(o.sandbox);
  const reproduceSh = files.find((f) => f.path === 'reproduce.sh')?.content;
  // The check: the workspace's own reproduce.log, else what the agent's last run printed (given).
  const reproduceLog = o.workspaceEvidence
    ? (files.find((f) => f.path === 'reproduce.log')?.content ?? o.reproduceLog)
    : o.reproduceLog;
  return gradeSubmission({
    client: o.client,
    paper: o.paper,
    rubric: o.rubric,
    files,
    ...(reproduceSh !== undefined ? { reproduceSh } : {}),
    ...(reproduceLog !== undefined ? { reproduceLog } : {}),
    // Without a final run (--no-final-run) the judge decides every leaf, as before.
    ...(o.finalRun ? { decideFromEvidence: true, finalRun: o.finalRun } : {}),
    ...(o.workspaceEvidence ? { decideFromEvidence: true } : {}),
    ...(o.concurrency ? { concurrency: o.concurrency } : {}),
    ...(o.blacklistHits ? { blacklistHits: o.blacklistHits } : {}),
    cacheDir: o.cacheDir,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onLeaf ? { onLeaf: o.onLeaf } : {}),
  });
}

/** REPRODUCTION.md: what was reproduced, the score table and how to run it again. */
export function reproductionReport(o: {
  paper: Paper;
  grade?: GradeResult;
  summary?: string;
  reproduction?: { ran: boolean; exitCode: number | null; durationMs: number };
  /** Blacklist findings; listed here when there is no grade to list them. */
  findings?: BlacklistHit[];
}): string {
  const lines = [`# Reproduction of "${o.paper.title}"`, ''];
  if (o.summary) lines.push(o.summary.trim(), '');
  lines.push('## How to run', '', '```bash', 'bash reproduce.sh   # writes reproduce.log', '```', '');
  if (o.reproduction) {
    const r = o.reproduction;
    lines.push(
      '## Final reproduction',
      '',
      r.ran
        ? `\`reproduce.sh\` ran in a fresh container: exit code ${r.exitCode ?? 'none (stopped at the time limit)'}, ${Math.round(r.durationMs / 1000)} s. Its output is in \`reproduce.log\`.`
        : 'The submission has no `reproduce.sh`.',
      '',
    );
  }
  if (o.grade) lines.push(renderReport(o.grade).replace(/^# /m, '## '));
  else {
    lines.push('## Grade', '', 'Not graded: no rubric was given or generated for this session.', '');
    if (o.findings?.length)
      lines.push(flaggedLine(o.findings.length), '', ...renderFindings(o.findings, '###'), '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
