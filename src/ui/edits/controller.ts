/**
 * VS Code side of proposed edits: diff views (never stealing focus), accept / reject for files and
 * hunks, the proposals QuickPick, the approval-mode switch and the ask-each prompt. Decisions go
 * to the EditQueue, which merges into the user's current text (VscodeUserFiles) and never
 * overwrites it silently: conflicts come back here and the user chooses.
 */
import * as vscode from 'vscode';
import type { Outcome } from '../../edits/decide';
import { describeHunk } from '../../edits/hunks';
import type { Proposal } from '../../edits/proposal';
import {
  APPROVAL_MODES,
  type ApprovalMode,
  type Decision,
  type EditQueueOptions,
  type ReviewQueue,
} from '../../edits/queue';
import { ProposalDiffs } from './diff';
import { PROPOSAL_SCHEME, ProposalDocuments, pathOfProposalUri, proposalUri } from './documents';
import { askDecision, pickHunk, pickProposal, rejectReason } from './pickers';
import { EditsStatus, modeFromSettings, pickMode, saveMode } from './status';
import { activeProposalPath, closeDecidedDiffs, hunkAtCursor, proposalTabs } from './tabs';
import { VscodeUserFiles } from './workspace';

export interface EditsControllerOptions {
  log?: vscode.LogOutputChannel;
}

/** A path, a proposal/file URI, or anything with a `path` (tree items, webview messages). */
type Target = string | vscode.Uri | { path: string } | undefined;

function target(x: unknown): Target {
  if (typeof x === 'string' || x instanceof vscode.Uri) return x;
  if (x && typeof x === 'object' && typeof (x as { path?: unknown }).path === 'string')
    return x as { path: string };
  return undefined;
}
const num = (x: unknown) => (typeof x === 'number' && Number.isInteger(x) ? x : undefined);
const str = (x: unknown) => (typeof x === 'string' ? x : undefined);

export class EditsController implements vscode.Disposable {
  /** Undefined without an open folder (then no session can run either). */
  readonly userFiles: VscodeUserFiles | undefined;
  /** The session's proposals: its own queue (agent in this window) or an engine's, over the channel. */
  private queue: ReviewQueue | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly docs: ProposalDocuments;
  /** The edits' state for the status bar item. */
  readonly status = new EditsStatus();
  private readonly diffs = new ProposalDiffs();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    folder: vscode.Uri | undefined,
    queue?: ReviewQueue,
    private readonly opts: EditsControllerOptions = {},
  ) {
    this.userFiles = folder && new VscodeUserFiles(folder);
    this.docs = new ProposalDocuments(() => this.queue);
    // Menus pass their own arguments (a resource URI, then `{ groupId, editorIndex }`): take only
    // what has the expected type, so a menu click never reads as a stale version or a reason.
    const cmd = (id: string, fn: (...args: unknown[]) => unknown) =>
      vscode.commands.registerCommand(id, (...args: unknown[]) => this.guard(() => fn(...args)));
    this.disposables.push(
      this.docs,
      this.status,
      vscode.workspace.registerTextDocumentContentProvider(PROPOSAL_SCHEME, this.docs),
      vscode.languages.registerCodeLensProvider({ scheme: PROPOSAL_SCHEME }, this.docs),
      cmd('klong.openProposal', (t) => this.openCommand(target(t))),
      cmd('klong.showProposals', () => this.showProposals()),
      cmd('klong.acceptProposal', (t, v) => this.acceptFile(target(t), num(v))),
      cmd('klong.rejectProposal', (t, v, r) => this.rejectFile(target(t), num(v), str(r))),
      cmd('klong.acceptAllProposals', () => this.acceptAll()),
      cmd('klong.rejectAllProposals', (r) => this.rejectAll(str(r))),
      cmd('klong.acceptHunk', (t, i, v) => this.hunk('accept', target(t), num(i), num(v))),
      cmd('klong.rejectHunk', (t, i, v, r) => this.hunk('reject', target(t), num(i), num(v), str(r))),
      cmd('klong.setApprovalMode', (m) => this.setMode(APPROVAL_MODES.find((x) => x === m))),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('klong.edits.approvalMode')) {
          this.queue?.setMode(modeFromSettings());
          this.changed();
        }
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.updateFocusKey()),
      vscode.window.tabGroups.onDidChangeTabs(() => this.updateFocusKey()),
    );
    this.setQueue(queue);
  }

  /** The mode from the settings, for `new EditQueue({ mode })`. */
  get mode(): ApprovalMode {
    return modeFromSettings();
  }

  /** What the queue needs from VS Code: `new EditQueue({ sandbox, emit, onFeedback, ...controller.queueHooks() })`. */
  queueHooks(): Pick<EditQueueOptions, 'user' | 'decide' | 'onWarning' | 'mode'> {
    if (!this.userFiles)
      throw new Error('Open a folder first: KLong proposes edits to the files of a workspace folder.');
    return {
      user: this.userFiles,
      mode: modeFromSettings(),
      decide: (p) => this.askEach(p),
      onWarning: (m) => {
        this.opts.log?.warn(m);
        void vscode.window.showWarningMessage(`KLong: ${m}`);
      },
    };
  }

  /**
   * Attach the session's queue (or detach with undefined when the session ends): the in-host
   * `EditQueue`, created in the mode of the settings, or a followed engine's (`RemoteQueue`), whose
   * mode is the engine's until the user changes it.
   */
  setQueue(queue: ReviewQueue | undefined): void {
    this.unsubscribe?.();
    this.queue = queue;
    this.unsubscribe = queue?.onDidChange(() => this.changed());
    this.changed();
  }

  /** Detach `queue` if it is still the one attached. */
  releaseQueue(queue: ReviewQueue): void {
    if (this.queue === queue) this.setQueue(undefined);
  }

  /** Shows a proposal's diff beside nothing and without taking focus (unless asked). */
  async open(path: string, preserveFocus = true): Promise<void> {
    const p = this.queue?.get(path);
    if (!p || !this.userFiles) {
      void vscode.window.showInformationMessage(`KLong: no pending edit for ${path}.`);
      return;
    }
    await this.diffs.show(p, this.userFiles, preserveFocus);
    // The workbench may have kept the model of an earlier proposal for this path: show the current one.
    this.docs.refresh(proposalTabs());
  }

  private async openCommand(t: Target): Promise<void> {
    const path = await this.resolve(t);
    if (path) await this.open(path, false);
  }

  private async showProposals(): Promise<void> {
    const q = this.needQueue();
    if (!q) return;
    const choice = await pickProposal(q.list());
    if (!choice) return;
    switch (choice.action) {
      case 'acceptAll':
        return this.acceptAll();
      case 'rejectAll':
        return this.rejectAll();
      case 'accept':
        return this.acceptFile(choice.path);
      case 'reject':
        return this.rejectFile(choice.path);
      default:
        return this.open(choice.path, false);
    }
  }

  private async acceptFile(t: Target, version?: number): Promise<void> {
    const q = this.needQueue();
    const path = q && (await this.resolve(t));
    if (!q || !path) return;
    await this.report(await q.accept(path, { version }), { version });
  }

  private async rejectFile(t: Target, version?: number, reason?: string): Promise<void> {
    const q = this.needQueue();
    const path = q && (await this.resolve(t));
    if (!q || !path) return;
    const why = reason ?? (await rejectReason(path));
    if (why === undefined) return;
    await this.report(await q.reject(path, { version, reason: why || undefined }));
  }

  private async hunk(
    which: 'accept' | 'reject',
    t: Target,
    index?: number,
    version?: number,
    reason?: string,
  ) {
    const q = this.needQueue();
    const path = q && (await this.resolve(t));
    const p = path ? q?.get(path) : undefined;
    if (!q || !p) return;
    let i = index ?? hunkAtCursor(p);
    if (i === undefined) i = (await pickHunk(p, which))?.index;
    if (i === undefined) return;
    const v = index === undefined ? p.version : version;
    if (which === 'accept') {
      await this.report(await q.accept(p.path, { hunks: [i], version: v }), { version: v });
      return;
    }
    const h = p.hunks.find((x) => x.index === i);
    const why = reason ?? (await rejectReason(`${p.path} (${h ? describeHunk(h) : `change ${i + 1}`})`));
    if (why === undefined) return;
    await this.report(await q.reject(p.path, { hunks: [i], version: v, reason: why || undefined }));
  }

  private async acceptAll(): Promise<void> {
    const q = this.needQueue();
    if (!q) return;
    const outcomes = await q.acceptAll();
    for (const o of outcomes) await this.report(o, { quiet: true });
    const ok = outcomes.filter((o) => o.status === 'accepted').length;
    vscode.window.setStatusBarMessage(`KLong: accepted ${ok} of ${outcomes.length} proposed edits`, 5000);
    const held = q.list().filter((p) => p.sensitive);
    if (held.length) {
      const names = held.map((p) => p.path).join(', ');
      void vscode.window.showInformationMessage(
        `KLong: ${held.length} sensitive edit${held.length === 1 ? ' was' : 's were'} left for you to accept one by one (${names}): they change what runs on your machine.`,
      );
    }
  }

  private async rejectAll(reason?: string): Promise<void> {
    const q = this.needQueue();
    if (!q || q.list().length === 0) return;
    const why = reason ?? (await rejectReason(`all ${q.list().length} proposed edits`));
    if (why === undefined) return;
    for (const o of await q.rejectAll(why || undefined)) await this.report(o, { quiet: true });
  }

  private async setMode(mode?: ApprovalMode): Promise<void> {
    const next = mode ?? (await pickMode(modeFromSettings()));
    if (!next) return;
    await saveMode(next);
    this.queue?.setMode(next);
    this.changed();
  }

  /** ask-each for an engine's proposal (its `ask` request): as for this window's own queue. */
  async askAbout(path: string): Promise<Decision | undefined> {
    const p = this.queue?.get(path);
    return p ? this.askEach(p) : undefined;
  }

  /** ask-each: the diff opens without focus; a modal asks; Escape leaves it queued. */
  private async askEach(p: Proposal): Promise<Decision | undefined> {
    await this.open(p.path, true);
    this.status.setWaiting(true);
    try {
      return await askDecision(p);
    } finally {
      this.status.setWaiting(false);
    }
  }

  /** Tells the user what happened; a conflict asks how to go on and never writes by itself. */
  private async report(o: Outcome, ctx: { version?: number; quiet?: boolean } = {}): Promise<void> {
    this.opts.log?.info(`${o.status}: ${o.message}`);
    if (o.status === 'accepted' || o.status === 'rejected') {
      if (o.status === 'accepted' && o.markers) {
        void vscode.window.showWarningMessage(
          `KLong: ${o.path} now has conflict markers (<<<<<<< … >>>>>>>). Resolve them and save; Undo reverts the edit.`,
        );
      } else if (!ctx.quiet) vscode.window.setStatusBarMessage(`KLong: ${o.message}`, 4000);
      return;
    }
    if (o.status === 'stale') {
      void vscode.window.showInformationMessage(`KLong: ${o.message}`);
      if (this.queue?.get(o.path)) await this.open(o.path, true);
      return;
    }
    if (o.status !== 'conflict') {
      void vscode.window.showErrorMessage(`KLong: ${o.message}`);
      return;
    }
    const canMerge = o.merge !== null;
    const buttons = canMerge
      ? ['Insert conflict markers', 'Show merge result', 'Keep mine (reject)']
      : ["Use the agent's version", 'Keep mine (reject)'];
    // Not awaited: the command finishes now; the user answers the notification whenever they like.
    void vscode.window
      .showWarningMessage(`KLong: ${o.message}`, ...buttons)
      .then((pick) => this.guard(() => this.resolveConflict(o, pick, ctx.version)));
  }

  private async resolveConflict(
    o: Outcome & { status: 'conflict' },
    pick: string | undefined,
    version?: number,
  ) {
    const q = this.queue;
    if (!q || !pick) return;
    if (pick === 'Insert conflict markers') {
      await this.report(await q.accept(o.path, { version, onConflict: 'markers' }));
    } else if (pick === "Use the agent's version") {
      await this.report(await q.accept(o.path, { version, onConflict: 'overwrite' }));
    } else if (pick === 'Show merge result' && o.merge) {
      const doc = await vscode.workspace.openTextDocument({
        content: o.merge.text,
        language: await this.languageOf(o.path),
      });
      await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: false });
    } else if (pick === 'Keep mine (reject)') {
      await this.rejectFile(o.path, version);
    }
  }

  private async languageOf(path: string): Promise<string> {
    try {
      return (await vscode.workspace.openTextDocument(proposalUri(path))).languageId;
    } catch {
      return 'plaintext';
    }
  }

  /** The proposal a command is about: its argument, the active proposal editor/diff, or a pick. */
  private async resolve(t: Target): Promise<string | undefined> {
    if (typeof t === 'string') return t;
    if (t instanceof vscode.Uri) return this.pathOf(t) ?? this.pickPath();
    if (t && typeof t === 'object' && typeof t.path === 'string') return t.path;
    return activeProposalPath() ?? this.pickPath();
  }

  private pathOf(uri: vscode.Uri): string | undefined {
    const p = pathOfProposalUri(uri);
    if (p) return p;
    const rel = vscode.workspace.asRelativePath(uri, false);
    return uri.scheme === 'file' && rel !== uri.fsPath && this.queue?.get(rel) ? rel : undefined;
  }

  private async pickPath(): Promise<string | undefined> {
    const list = this.queue?.list() ?? [];
    if (list.length === 1) return list[0]!.path;
    const choice = await pickProposal(list, { actions: false });
    return choice?.path;
  }

  private needQueue(): ReviewQueue | undefined {
    if (!this.queue)
      void vscode.window.showInformationMessage(
        'KLong: no session is running, so there are no proposed edits.',
      );
    return this.queue;
  }

  private changed(): void {
    this.docs.refresh(proposalTabs());
    const pending = this.queue?.list().length ?? 0;
    this.status.update(this.queue !== undefined, this.queue?.mode ?? modeFromSettings(), pending);
    void vscode.commands.executeCommand('setContext', 'klong.pendingEdits', pending);
    closeDecidedDiffs((path) => this.queue?.get(path) !== undefined);
    this.updateFocusKey();
  }

  private updateFocusKey(): void {
    void vscode.commands.executeCommand(
      'setContext',
      'klong.proposalFocused',
      activeProposalPath() !== undefined,
    );
  }

  private async guard(fn: () => unknown): Promise<void> {
    try {
      await fn();
    } catch (err) {
      const m = err instanceof Error ? err.message : String(err);
      this.opts.log?.error(`edits: ${m}`);
      void vscode.window.showErrorMessage(`KLong: ${m}`);
    }
  }

  dispose(): void {
    this.unsubscribe?.();
    for (const d of this.disposables) d.dispose();
  }
}

/** One line in the UI registration: commands exist from activation; the session attaches its queue later. */
export function registerEdits(
  context: vscode.ExtensionContext,
  log?: vscode.LogOutputChannel,
): EditsController {
  const controller = new EditsController(vscode.workspace.workspaceFolders?.[0]?.uri, undefined, { log });
  context.subscriptions.push(controller);
  return controller;
}
