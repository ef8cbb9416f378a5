/**
 * Sessions view: every session in the store (paper, workspace, status, active time, score), with
 * open / resume / delete / export. The list comes from SessionStore.list(), which is cheap (one
 * stat per unchanged session), refreshed when a session's files change.
 */
import { homedir, hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as vscode from 'vscode';
import { EventLog, type SessionListEntry, SessionLockedError, SessionStore } from '../session';
import { engineServes } from './model/engine-link';
import { foldLog, type LogModel } from './model/model-checkpoint';

/** What open needs of the progress view's model (SessionModel fits). */
export interface TimelineModel extends LogModel {
  readonly snapshot: { readonly status: unknown };
  /** Changes of the session this window drives: its row follows them at once. */
  onChange?(listener: (c: { keys: ReadonlySet<string> }) => void): () => void;
}

export interface SessionsViewOptions {
  /** Where new sessions go; listed first. */
  store: SessionStore;
  /** More folders to list (sessions of earlier versions); read at each refresh. */
  moreRoots?: () => string[];
  /** Open shows a session's timeline here (read-only); without it, open shows a summary. */
  model?: TimelineModel;
  /** How to resume a session (lock + sandbox + agent). Default: runs `klong.resumeSession` with the id. */
  onResume?: (entry: SessionListEntry) => unknown;
  /** Called after open loaded a session into the model (e.g. to reveal the progress view). */
  onOpened?: (entry: SessionListEntry) => unknown;
  /**
   * Open on a session an engine process drives: follow it live (true), or false to show its log
   * read-only. Without it, open always replays the log.
   */
  onFollow?: (entry: SessionListEntry) => Promise<boolean>;
  /** This window drives a session in its own host (open must not replace it in the progress view). */
  drivingHere?: () => boolean;
  /** Open showed another session: stop following the one followed so far. */
  onLeave?: () => void;
  log?: vscode.LogOutputChannel;
}

export function formatDuration(ms: number): string {
  const m = Math.floor(ms / 60_000);
  if (m < 1) return `${Math.round(ms / 1000)}s`;
  const h = Math.floor(m / 60);
  return h > 0 ? `${h}h ${m % 60}m` : `${m}m`;
}

/** Held by this extension host: the session this window drives, not "open in another window". */
function heldHere(e: SessionListEntry): boolean {
  return e.lock === 'held' && e.lockOwner?.pid === process.pid && e.lockOwner.hostname === hostname();
}

/** Driven by an engine process (klong --detach, a detached VS Code session) that serves its channel. */
export function engineDriven(e: SessionListEntry): boolean {
  return e.lock === 'held' && !heldHere(e) && engineServes(e.dir, e.lockOwner?.pid);
}

function statusLabel(e: SessionListEntry): string {
  if (e.interrupted) return 'interrupted';
  if (heldHere(e)) return `${e.status} (this window)`;
  if (engineDriven(e)) return `${e.status} (engine pid ${e.lockOwner?.pid})`;
  if (e.lock === 'held') return `${e.status} (open in another window)`;
  return e.status;
}

function isResumable(e: SessionListEntry): boolean {
  return e.lock !== 'held' && e.status !== 'done' && e.status !== 'failed';
}

function icon(e: SessionListEntry): vscode.ThemeIcon {
  if (e.interrupted) return new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
  switch (e.status) {
    case 'running':
    case 'starting':
      return new vscode.ThemeIcon('sync~spin');
    case 'paused':
      return new vscode.ThemeIcon('debug-pause');
    case 'done':
      return new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
    case 'failed':
      return new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
    case 'stopped':
      return new vscode.ThemeIcon('debug-stop');
    default:
      return new vscode.ThemeIcon('circle-outline');
  }
}

export function sessionTreeItem(e: SessionListEntry): vscode.TreeItem {
  const item = new vscode.TreeItem(e.paperTitle || e.id, vscode.TreeItemCollapsibleState.None);
  item.id = e.id;
  const score = e.lastScore === null ? '' : ` · score ${Math.round(e.lastScore * 100)}%`;
  item.description = `${statusLabel(e)} · ${formatDuration(e.activeMs)}${score}`;
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${escapeMd(e.paperTitle || e.id)}**\n\n`);
  md.appendMarkdown(`- Workspace: \`${escapeMd(e.workspace)}\`\n`);
  md.appendMarkdown(`- Status: ${statusLabel(e)}${e.endReason ? ` (${e.endReason})` : ''}\n`);
  md.appendMarkdown(`- Active time: ${formatDuration(e.activeMs)} of ${formatDuration(e.budgetMs)}\n`);
  md.appendMarkdown(`- Steps: ${e.steps} · cost $${e.costUsd.toFixed(2)}\n`);
  if (e.lastScore !== null) md.appendMarkdown(`- Last score: ${(e.lastScore * 100).toFixed(1)}%\n`);
  md.appendMarkdown(`- Updated: ${new Date(e.updatedAt).toLocaleString()}\n`);
  if (e.lock === 'held' && e.lockOwner && !heldHere(e))
    md.appendMarkdown(
      engineDriven(e)
        ? `- Driven by an engine process (pid ${e.lockOwner.pid}): open follows it live\n`
        : `- Open in another window (pid ${e.lockOwner.pid})\n`,
    );
  md.appendMarkdown(`- Id: \`${e.id}\``);
  item.tooltip = md;
  item.iconPath = icon(e);
  item.contextValue = `klongSession${isResumable(e) ? ' resumable' : ''}${e.lock === 'held' ? ' locked' : ''}${engineDriven(e) ? ' engine' : ''}`;
  item.command = { command: 'klong.sessions.open', title: 'Open', arguments: [e] };
  return item;
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|]/g, '\\$&');
}

export class SessionsViewProvider implements vscode.TreeDataProvider<SessionListEntry>, vscode.Disposable {
  static readonly viewId = 'klong.sessions';
  private readonly changed = new vscode.EventEmitter<SessionListEntry | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private entries: SessionListEntry[] = [];

  constructor(private readonly opts: SessionsViewOptions) {}

  get store(): SessionStore {
    return this.opts.store;
  }

  /** Every folder listed: the shared one first, then those of earlier versions. */
  stores(): SessionStore[] {
    const main = this.opts.store;
    const more = (this.opts.moreRoots?.() ?? [])
      .filter((r) => resolve(r) !== resolve(main.root))
      .map((r) => new SessionStore(r));
    return [main, ...more];
  }

  /** The store a listed session belongs to. */
  storeOf(e: SessionListEntry): SessionStore {
    const root = resolve(dirname(e.dir));
    return this.stores().find((s) => resolve(s.root) === root) ?? this.opts.store;
  }

  /** Sessions of every folder, newest first (a session id listed once, the shared folder's first). */
  list(): SessionListEntry[] {
    const seen = new Set<string>();
    const out: SessionListEntry[] = [];
    for (const store of this.stores()) {
      let entries: SessionListEntry[];
      try {
        entries = store.list();
      } catch (err) {
        this.opts.log?.warn(`Sessions: could not list ${store.root}: ${(err as Error).message}`);
        continue;
      }
      for (const e of entries) {
        if (seen.has(e.id)) continue;
        seen.add(e.id);
        out.push(e);
      }
    }
    return out.sort((a, b) => b.updatedAt - a.updatedAt);
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(e: SessionListEntry): vscode.TreeItem {
    return sessionTreeItem(e);
  }

  getChildren(parent?: SessionListEntry): SessionListEntry[] {
    if (parent) return [];
    this.entries = this.list();
    return this.entries;
  }

  get current(): readonly SessionListEntry[] {
    return this.entries;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** Register the view, its commands and the watchers that refresh it. */
export function registerSessionsView(
  opts: SessionsViewOptions,
): vscode.Disposable & { provider: SessionsViewProvider } {
  const provider = new SessionsViewProvider(opts);
  const view = vscode.window.createTreeView(SessionsViewProvider.viewId, { treeDataProvider: provider });
  const all = vscode.Disposable.from(
    watchSessions(provider, view, opts),
    provider,
    view,
    new SessionCommands(provider, opts).register(),
  );
  return Object.assign(all, { provider });
}

/** The view's commands: open, resume, delete, export, refresh; each takes a row, an id or asks. */
class SessionCommands {
  /** The progress view shows a session opened here (not one this window drives). */
  private shownByView = false;

  constructor(
    private readonly provider: SessionsViewProvider,
    private readonly opts: SessionsViewOptions,
  ) {}

  register(): vscode.Disposable {
    return vscode.Disposable.from(
      vscode.commands.registerCommand('klong.sessions.refresh', () => {
        for (const s of this.provider.stores()) s.rebuildIndex();
        this.provider.refresh();
      }),
      vscode.commands.registerCommand('klong.sessions.open', (arg) => this.open(arg)),
      vscode.commands.registerCommand('klong.sessions.resume', (arg) => this.resume(arg)),
      vscode.commands.registerCommand('klong.sessions.delete', (arg) => this.delete(arg)),
      vscode.commands.registerCommand('klong.sessions.export', (arg) => this.exportTrajectory(arg)),
    );
  }

  private find(id: string): SessionListEntry | undefined {
    return this.provider.list().find((e) => e.id === id);
  }

  /** The session a command was given (a row or an id), or one the user picks among `filter`'s. */
  private async pick(
    arg: unknown,
    filter: (e: SessionListEntry) => boolean = () => true,
  ): Promise<SessionListEntry | undefined> {
    if (arg && typeof arg === 'object' && 'id' in arg) return this.find((arg as SessionListEntry).id);
    if (typeof arg === 'string') return this.find(arg);
    const items = this.provider
      .list()
      .filter(filter)
      .map((e) => ({
        label: e.paperTitle || e.id,
        description: sessionTreeItem(e).description as string,
        entry: e,
      }));
    if (items.length === 0) {
      void vscode.window.showInformationMessage('KLong: no matching sessions.');
      return undefined;
    }
    return (await vscode.window.showQuickPick(items, { placeHolder: 'Choose a KLong session' }))?.entry;
  }

  private async open(arg: unknown): Promise<void> {
    const { opts } = this;
    const e = await this.pick(arg);
    if (!e) return;
    if (!opts.model) {
      const item = sessionTreeItem(e);
      void vscode.window.showInformationMessage(`${e.paperTitle || e.id}: ${item.description as string}`);
      return;
    }
    // The progress view follows a live session in this window: do not replace it under the agent.
    const live = opts.drivingHere
      ? opts.drivingHere()
      : ['starting', 'running', 'paused'].includes(String(opts.model.snapshot.status)) && !this.shownByView;
    if (live) {
      void vscode.window.showWarningMessage(
        'KLong: a session is active in this window; stop it before opening another one in the progress view.',
      );
      return;
    }
    if (opts.onFollow && engineDriven(e) && (await opts.onFollow(e))) {
      this.shownByView = true;
      await opts.onOpened?.(e);
      return;
    }
    opts.onLeave?.();
    const log = EventLog.open(e.dir, {
      mode: 'read',
      ...(opts.log ? { onWarning: (m) => opts.log?.warn(m) } : {}),
    });
    try {
      foldLog(opts.model, log); // from a checkpoint a window left, or the older events skimmed
      this.shownByView = true;
    } finally {
      log.close();
    }
    await opts.onOpened?.(e);
  }

  private async resume(arg: unknown): Promise<void> {
    const e = await this.pick(arg, isResumable);
    if (!e) return;
    if (e.lock === 'held') {
      void vscode.window.showErrorMessage(
        `Session ${e.id} is open in another window${e.lockOwner ? ` (pid ${e.lockOwner.pid})` : ''}.`,
      );
      return;
    }
    this.shownByView = false;
    if (this.opts.onResume) await this.opts.onResume(e);
    else await vscode.commands.executeCommand('klong.resumeSession', e.id);
    this.provider.refresh();
  }

  private async delete(arg: unknown): Promise<void> {
    const e = await this.pick(arg);
    if (!e) return;
    const ok = await vscode.window.showWarningMessage(
      `Delete the KLong session "${e.paperTitle || e.id}"?`,
      {
        modal: true,
        detail:
          'Its event log, snapshots, step history and container are removed. Files in your workspace are not touched.',
      },
      'Delete',
    );
    if (ok !== 'Delete') return;
    try {
      this.provider.storeOf(e).delete(e.id);
      // Its container goes too (GPUs, memory), in the background: Docker may be slow or down.
      const host = vscode.workspace.getConfiguration('klong').get<string>('docker.host') || undefined;
      void import('../engine/extension-api')
        .then((m) => m.removeSessionContainer(e.id, host))
        .catch(() => undefined);
    } catch (err) {
      const msg =
        err instanceof SessionLockedError ? `${err.message} Close it there first.` : (err as Error).message;
      void vscode.window.showErrorMessage(`KLong: ${msg}`);
    }
    this.provider.refresh();
  }

  private async exportTrajectory(arg: unknown): Promise<void> {
    const e = await this.pick(arg);
    if (!e) return;
    const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? homedir();
    const uri = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(join(base, `klong-${e.id}.trajectory.jsonl`)),
      filters: { 'Trajectory (JSONL)': ['jsonl'] },
      saveLabel: 'Export trajectory',
    });
    if (!uri) return;
    try {
      const r = this.provider.storeOf(e).exportTrajectory(e.id, uri.fsPath);
      const choice = await vscode.window.showInformationMessage(
        `KLong: exported ${r.events} events (${(r.bytes / 1e6).toFixed(1)} MB) to ${uri.fsPath}.`,
        'Reveal',
      );
      if (choice === 'Reveal') await vscode.commands.executeCommand('revealFileInOS', uri);
    } catch (err) {
      void vscode.window.showErrorMessage(`KLong: export failed: ${(err as Error).message}`);
    }
  }
}

/**
 * What keeps the list true: file events of the store, this window's own session, and a poll while
 * the view is visible.
 */
function watchSessions(
  provider: SessionsViewProvider,
  view: vscode.TreeView<SessionListEntry>,
  opts: SessionsViewOptions,
): vscode.Disposable {
  // Session files change on every step of a running session: refresh at most once a second.
  let timer: NodeJS.Timeout | undefined;
  const soon = () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      provider.refresh();
    }, 1000);
  };
  const watcher = vscode.workspace.createFileSystemWatcher(
    new vscode.RelativePattern(
      vscode.Uri.file(opts.store.root),
      '*/{summary.json,events.jsonl,session.lock}',
    ),
  );

  // The store lives in the extension's global storage, outside the workspace, where file events may
  // not come (remote hosts, some platforms): this window's own session refreshes its row itself.
  const unsubscribe = opts.model?.onChange?.((c) => {
    if (c.keys.has('status')) provider.refresh(); // rare: no need to batch
  });

  // The shared folder changes under other processes (CLI, batch, other windows' engines), where file
  // events may not come: while the view is visible it is listed again every few seconds (cheap:
  // one stat per unchanged session) so that a session's status and its engine's liveness stay true.
  const poll = setInterval(() => {
    if (view.visible) provider.refresh();
  }, 3000);

  return vscode.Disposable.from(
    { dispose: () => clearInterval(poll) },
    { dispose: () => unsubscribe?.() },
    watcher,
    watcher.onDidChange(soon),
    watcher.onDidCreate(soon),
    watcher.onDidDelete(soon),
    { dispose: () => timer && clearTimeout(timer) },
  );
}
