/**
 * The agent's background jobs in VS Code: the running ones' last lines refreshed in the progress
 * view, and a job's whole log opened in an editor (both read from the container).
 */
import * as vscode from 'vscode';
import { JOBS_DIR, jobLogTail, jobStatuses } from '../agent/jobs';
import type { Sandbox } from '../sandbox/sandbox';
import type { SessionModel } from './model/session-model';

/** The end of a log that an editor gets (a training log can be gigabytes). */
const LOG_EDITOR_BYTES = 16 * 1024 * 1024;
const REFRESH_MS = 10_000;

/** Refreshes the last lines of the running jobs every 10 s while the session runs. */
export function refreshJobTails(sandbox: Sandbox, model: SessionModel): vscode.Disposable {
  let busy = false;
  const timer = setInterval(() => {
    const ids = model.snapshot.jobs.filter((j) => j.state === 'running').map((j) => j.id);
    if (busy || ids.length === 0) return;
    busy = true;
    jobStatuses(sandbox, ids, 5)
      .then((all) => {
        for (const s of all) if (s.state === 'running') model.setJobTail(s.id, s.tail, s.size);
      })
      .catch(() => undefined) // the container may be going away; the next refresh tries again
      .finally(() => {
        busy = false;
      });
  }, REFRESH_MS);
  return new vscode.Disposable(() => clearInterval(timer));
}

/** Opens a job's log (its last 16 MB) in an untitled editor; asks which job when none is given. */
export async function openJobLog(
  sandbox: Sandbox | undefined,
  model: SessionModel,
  id?: string,
): Promise<void> {
  const jobs = model.snapshot.jobs;
  if (!id) {
    if (jobs.length === 0) {
      void vscode.window.showInformationMessage('KLong: the agent has started no background job.');
      return;
    }
    const pick = await vscode.window.showQuickPick(
      [...jobs].reverse().map((j) => ({ label: `${j.id} · ${j.name}`, description: j.state, id: j.id })),
      { title: 'KLong: open a background job log' },
    );
    if (!pick) return;
    id = pick.id;
  }
  if (!sandbox) {
    void vscode.window.showInformationMessage(
      'KLong: job logs live in the session’s container; resume the session to read them.',
    );
    return;
  }
  const log = await jobLogTail(sandbox, id, LOG_EDITOR_BYTES).catch((err: unknown) => {
    void vscode.window.showErrorMessage(
      `KLong: could not read the log of job ${id}: ${err instanceof Error ? err.message : String(err)}`,
    );
    return undefined;
  });
  if (log === undefined) return;
  if (log === null) {
    void vscode.window.showWarningMessage(
      `KLong: job ${id} has no log in the container (the container was recreated since it ran).`,
    );
    return;
  }
  const cut = log.size > Buffer.byteLength(log.text);
  const head = cut
    ? `[the last ${Math.round(LOG_EDITOR_BYTES / 1024 / 1024)} MB of ${(log.size / 1024 / 1024).toFixed(1)} MB; the whole log is ${JOBS_DIR}/${id}/log in the container]\n`
    : '';
  const doc = await vscode.workspace.openTextDocument({ content: head + log.text, language: 'log' });
  await vscode.window.showTextDocument(doc, { preview: false });
}
