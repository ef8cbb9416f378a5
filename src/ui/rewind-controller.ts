/**
 * Rewind and review from the timeline: "Rewind code / conversation / both" (context menu of a step
 * row, or a command with a step picker) and "Review changes of this step / since step N / of the
 * whole session" in VS Code's multi-file diff editor (`vscode.changes`). Files at a step come from
 * the shadow git in the session's container through read-only `klong-step:` documents; where a
 * range ends at the files now and the file has a pending proposal, its right side is the proposal
 * document, so accept / reject per file and hunk work there as in any proposal diff.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { StepReader } from '../engine/rewind';
import type { RewindMode } from '../events/events';
import { EventLog } from '../session';
import { proposalUri } from './edits/documents';
import type { SessionModel } from './model/session-model';
import { notifyError } from './notify';
import type { ReproduceController } from './reproduce-controller';
import { dockerHostSetting } from './run-settings';

export const STEP_SCHEME = 'klong-step';

export function stepUri(sessionId: string, commit: string, path: string): vscode.Uri {
  return vscode.Uri.from({
    scheme: STEP_SCHEME,
    path: `/${path}`,
    query: new URLSearchParams({ session: sessionId, commit }).toString(),
  });
}

/** The step a command was given: a number, or the webview context of a timeline row ({ step }). */
export function stepArg(arg: unknown): number | undefined {
  if (typeof arg === 'number' && Number.isInteger(arg) && arg >= 0) return arg;
  if (arg && typeof arg === 'object' && 'step' in arg) return stepArg((arg as { step: unknown }).step);
  return undefined;
}

const MODE_LABEL: Record<RewindMode, string> = {
  code: 'code',
  conversation: 'conversation',
  both: 'code and conversation',
};

export interface RewindUiDeps {
  /** The folder that holds a session (the shared one, or the legacy one of earlier versions). */
  stateDirOf: (id: string) => string;
  session: SessionModel;
  reproduce: ReproduceController;
  log: vscode.LogOutputChannel;
}

export class RewindController implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly attached = new Map<string, Promise<StepReader>>();

  constructor(private readonly deps: RewindUiDeps) {}

  register(): vscode.Disposable[] {
    const cmd = (id: string, fn: (arg?: unknown) => Promise<void>) =>
      vscode.commands.registerCommand(id, async (arg?: unknown) => {
        try {
          await fn(arg);
        } catch (err) {
          this.deps.log.error(String((err as Error).stack ?? err));
          void notifyError((err as Error).message);
        }
      });
    return [
      vscode.workspace.registerTextDocumentContentProvider(STEP_SCHEME, this),
      cmd('klong.rewind', (a) => this.rewind(undefined, a)),
      cmd('klong.rewindCode', (a) => this.rewind('code', a)),
      cmd('klong.rewindConversation', (a) => this.rewind('conversation', a)),
      cmd('klong.rewindBoth', (a) => this.rewind('both', a)),
      cmd('klong.reviewStep', (a) => this.review('step', a)),
      cmd('klong.reviewSince', (a) => this.review('since', a)),
      cmd('klong.reviewSession', () => this.review('session')),
    ];
  }

  private sessionId(): string | undefined {
    return this.deps.reproduce.running?.sessionId ?? this.deps.session.snapshot.session?.id;
  }

  private needSession(): string | undefined {
    const id = this.sessionId();
    if (!id)
      void vscode.window.showInformationMessage(
        'KLong: no session is shown. Open one from the Sessions view, or start a reproduction.',
      );
    return id;
  }

  /**
   * The running session's sandbox, or the session's step history for reading: the host's
   * history.git (no container needed), or the session's container for a session from before it.
   */
  private sandbox(id: string): Promise<StepReader> {
    const run = this.deps.reproduce.running;
    if (run?.sessionId === id) return Promise.resolve(run.sandbox);
    let p = this.attached.get(id);
    if (!p) {
      const host = dockerHostSetting();
      const stateDir = this.deps.stateDirOf(id);
      p = import('../engine/extension-api').then((m) =>
        m.stepReader({ stateDir, sessionId: id, ...(host ? { dockerHost: host } : {}) }),
      );
      p.catch(() => this.attached.delete(id));
      this.attached.set(id, p);
    }
    return p;
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const q = new URLSearchParams(uri.query);
    const id = q.get('session');
    const commit = q.get('commit');
    if (!id || !commit) return '';
    const data = await (await this.sandbox(id)).fileAt(commit, uri.path.replace(/^\/+/, ''));
    if (data === null) return '';
    if (data.subarray(0, 8000).includes(0)) return `(binary file, ${data.length} bytes: not shown)\n`;
    return Buffer.from(data).toString('utf8');
  }

  /** Steps to choose from, newest first, titled by what the agent said or did in them. */
  private async pickStep(title: string): Promise<number | undefined> {
    const rows = this.deps.session.timeline(0, this.deps.session.timelineLength);
    const label = new Map<number, string>();
    for (const r of rows)
      if (r.step !== undefined && !label.has(r.step) && r.kind !== 'checkpoint') label.set(r.step, r.title);
    const steps = this.deps.session.steps();
    if (!steps.length) {
      void vscode.window.showInformationMessage('KLong: this session has no steps yet.');
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(
      [
        ...steps.map((s) => ({
          label: `Step ${s.step}`,
          description: s.abandoned ? '(abandoned branch)' : '',
          detail: label.get(s.step) ?? '',
          step: s.step,
        })),
        { label: 'Step 0', description: 'before the first step', detail: '', step: 0 },
      ],
      { title, matchOnDetail: true, ignoreFocusOut: true },
    );
    return pick?.step;
  }

  async rewind(mode: RewindMode | undefined, arg?: unknown): Promise<void> {
    const id = this.needSession();
    if (!id) return;
    const step =
      stepArg(arg) ?? (await this.pickStep(`KLong: rewind ${mode ? MODE_LABEL[mode] : ''} to which step?`));
    if (step === undefined) return;
    if (!mode) {
      const m = await vscode.window.showQuickPick(
        [
          {
            label: 'Rewind both',
            detail: 'Files and the agent’s conversation go back to that step',
            mode: 'both' as const,
          },
          {
            label: 'Rewind code',
            detail: 'The files in the container go back; the conversation goes on',
            mode: 'code' as const,
          },
          {
            label: 'Rewind conversation',
            detail: 'The agent’s context goes back; the files stay',
            mode: 'conversation' as const,
          },
        ],
        { title: `KLong: rewind to step ${step}`, ignoreFocusOut: true },
      );
      if (!m) return;
      mode = m.mode;
    }
    const { reproduce } = this.deps;
    const wasRunning = reproduce.running?.sessionId === id;
    const r = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `KLong: rewinding ${MODE_LABEL[mode]} to step ${step}…`,
      },
      async () => {
        if (wasRunning) await reproduce.interrupt();
        const host = dockerHostSetting();
        const { rewindSession } = await import('../engine/extension-api');
        // Without a container the rewind is recorded and the next resume rebuilds it at that step.
        return rewindSession({
          stateDir: this.deps.stateDirOf(id),
          sessionId: id,
          toStep: step,
          mode: mode as RewindMode,
          ...(host ? { dockerHost: host } : {}),
        });
      },
    );
    this.deps.log.info(`Rewound ${MODE_LABEL[mode]} of ${id} to step ${r.toStep} (from step ${r.fromStep}).`);
    if (wasRunning) {
      // The agent goes on from the new point; the proposals are recomputed from the container.
      await reproduce.resume(id);
      return;
    }
    this.reload(id);
    const choice = await vscode.window.showInformationMessage(
      `KLong: rewound ${MODE_LABEL[mode]} to step ${step}. The later steps stay in the timeline as an abandoned branch.`,
      'Resume from here',
    );
    if (choice) await reproduce.resume(id);
  }

  /** Shows the session's log again in the progress view (with the rewind and the abandoned branch). */
  private reload(id: string): void {
    const log = EventLog.open(join(this.deps.stateDirOf(id), id), { mode: 'read' });
    try {
      this.deps.session.reset();
      this.deps.session.applyAll(log.iterate(0));
    } finally {
      log.close();
    }
  }

  async review(kind: 'step' | 'since' | 'session', arg?: unknown): Promise<void> {
    const id = this.needSession();
    if (!id) return;
    let step: number | undefined;
    if (kind !== 'session') {
      step =
        stepArg(arg) ??
        (await this.pickStep(
          kind === 'step'
            ? 'KLong: review the changes of which step?'
            : 'KLong: review the changes since which step?',
        ));
      if (step === undefined) return;
    }
    const { readHistory, stepOwnRange, stepRange } = await import('../engine/extension-api');
    const { history } = readHistory(this.deps.stateDirOf(id), id);
    const sb = await this.sandbox(id);
    let from: number | undefined;
    let to: number | undefined;
    let title: string;
    if (kind === 'step') {
      ({ from, to } = stepOwnRange(history, step!));
      title = `KLong: changes of step ${step}`;
    } else if (kind === 'since') {
      from = step;
      title = `KLong: changes since step ${step}`;
    } else title = 'KLong: changes of the whole session';
    const range = await stepRange(history, sb, from, to);
    const files = await sb.changedBetween(range.from, range.to);
    if (!files.length) {
      void vscode.window.showInformationMessage(`${title}: no file changed.`);
      return;
    }
    // Ranges that end at the files now show pending proposals on the right, with their accept/reject.
    const run = this.deps.reproduce.running;
    const queue = to === undefined && run?.sessionId === id ? run.queue : undefined;
    const workspace = this.deps.session.snapshot.session?.workspace ?? run?.workspace;
    const resources = files.map((f) => {
      const resource = workspace ? vscode.Uri.file(join(workspace, f.path)) : stepUri(id, range.to, f.path);
      const right = queue?.get(f.path) ? proposalUri(f.path) : stepUri(id, range.to, f.path);
      return [resource, stepUri(id, range.from, f.path), right] as const;
    });
    await vscode.commands.executeCommand('vscode.changes', title, resources);
  }

  dispose(): void {
    for (const p of this.attached.values()) void p.then((r) => r.dispose()).catch(() => undefined);
    this.attached.clear();
  }
}
