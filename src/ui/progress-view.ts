import * as vscode from 'vscode';
import {
  type FromProgress,
  fromProgressSchema,
  type ProgressState,
  type ProposalAction,
  type SessionAction,
  TIMELINE_PAGE_MAX,
  type ToProgress,
} from '../protocol/progress';
import { receive } from '../protocol/validate';
import type { ExternalLinks } from './external-links';
import type { ModelChange, SessionModel, StateKey } from './model/session-model';
import { webviewHtml } from './webview-html';

export type ProgressAction =
  | { kind: 'proposal'; action: ProposalAction; path: string }
  | { kind: 'session'; action: SessionAction }
  | { kind: 'job'; action: 'openLog'; id: string };

/** Commands the view's buttons run; the edits and session owners register them. */
export const proposalCommands: Record<ProposalAction, string> = {
  open: 'klong.openProposal',
  accept: 'klong.acceptProposal',
  reject: 'klong.rejectProposal',
};
export const sessionCommands: Record<SessionAction, string> = {
  pause: 'klong.pauseSession',
  resume: 'klong.resumeSession',
  stop: 'klong.stopSession',
};

/** Pushes are batched: at most one state message per interval, however fast events come. */
const FLUSH_MS = 80;

/**
 * The activity-bar view: status, budget, plan, tokens/cost, rubric, paged timeline, proposed edits
 * and Pause/Resume/Stop. It renders a SessionModel; the model's changes are pushed as partial state.
 */
export class ProgressViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'klong.progress';

  private view: vscode.WebviewView | undefined;
  private ready = false;
  private dirty = new Set<StateKey>();
  private dirtyRows = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  /** Rows the view asked for last: in-place row updates there are pushed. */
  private range = { start: 0, end: 0 };
  private readonly actions = new vscode.EventEmitter<ProgressAction>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly unsubscribe: () => void;

  /** Fires for every button the user presses in the view (after validation). */
  readonly onDidRequestAction = this.actions.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly model: SessionModel,
    private readonly log: (message: string) => void,
    private readonly links?: ExternalLinks,
  ) {
    this.unsubscribe = model.onChange((c) => this.changed(c));
  }

  get isReady(): boolean {
    return this.ready;
  }

  private readyWaiters: (() => void)[] = [];

  /** Resolves once the view's page has loaded (or after `ms`): before another webview is opened. */
  whenReady(ms: number): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Shows and focuses the view. */
  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${ProgressViewProvider.viewId}.focus`);
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    const root = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    view.webview.options = { enableScripts: true, localResourceRoots: [root] };
    view.webview.html = webviewHtml(view.webview, root, 'progress', 'KLong progress');
    this.disposables.push(
      view.webview.onDidReceiveMessage((raw) => {
        const msg = receive(fromProgressSchema, raw, this.log, 'the progress view');
        if (msg) void this.handle(msg);
      }),
      view.onDidDispose(() => {
        this.view = undefined;
        this.ready = false;
      }),
    );
  }

  dispose(): void {
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    this.actions.dispose();
    for (const d of this.disposables) d.dispose();
  }

  private post(msg: ToProgress): void {
    if (this.view && this.ready) void this.view.webview.postMessage(msg);
  }

  private async handle(msg: FromProgress): Promise<void> {
    switch (msg.type) {
      case 'ready':
        this.ready = true;
        this.dirty.clear();
        this.dirtyRows.clear();
        this.post({ type: 'state', full: true, state: this.model.snapshot });
        for (const w of this.readyWaiters.splice(0)) w();
        return;
      case 'timeline/range': {
        this.range = { start: msg.start, end: msg.end };
        const entries = this.model.timeline(msg.start, msg.end);
        this.post({ type: 'timeline/entries', total: this.model.timelineLength, entries });
        return;
      }
      case 'timeline/detail': {
        const sections = await this.model.detail(msg.index).catch((err: unknown) => [
          {
            label: 'Error',
            text: `Could not load this step: ${err instanceof Error ? err.message : String(err)}`,
          },
        ]);
        this.post({ type: 'timeline/detail', index: msg.index, sections });
        return;
      }
      case 'proposal':
        this.actions.fire({ kind: 'proposal', action: msg.action, path: msg.path });
        await this.run(proposalCommands[msg.action], msg.path);
        return;
      case 'session':
        this.actions.fire({ kind: 'session', action: msg.action });
        await this.run(sessionCommands[msg.action]);
        return;
      case 'link/open':
        await this.links?.open(msg.url, 'the progress view');
        return;
      case 'job':
        this.actions.fire({ kind: 'job', action: msg.action, id: msg.id });
        await this.run('klong.openJobLog', msg.id);
        return;
      case 'say':
        await this.run('klong.messageAgent', msg.text);
        return;
      case 'log':
        this.log(`[progress view] ${msg.level}: ${msg.message}`);
        return;
    }
  }

  private async run(command: string, ...args: unknown[]): Promise<void> {
    try {
      await vscode.commands.executeCommand(command, ...args);
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      this.log(`${command} failed: ${text}`);
      void vscode.window.showErrorMessage(`KLong: ${command} failed: ${text}`);
    }
  }

  private changed(c: ModelChange): void {
    for (const k of c.keys) this.dirty.add(k);
    for (const i of c.updated) if (i >= this.range.start && i < this.range.end) this.dirtyRows.add(i);
    if (!this.timer) this.timer = setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    this.timer = undefined;
    if (!this.ready) return;
    if (this.dirty.size) {
      const snap = this.model.snapshot;
      const state: Partial<ProgressState> = {};
      for (const k of this.dirty) (state as Record<string, unknown>)[k] = snap[k];
      this.dirty.clear();
      this.post({ type: 'state', full: false, state });
    }
    if (this.dirtyRows.size) {
      const rows = [...this.dirtyRows].sort((a, b) => a - b).slice(0, TIMELINE_PAGE_MAX);
      this.dirtyRows.clear();
      const entries = rows.flatMap((i) => this.model.timeline(i, i + 1));
      this.post({ type: 'timeline/entries', total: this.model.timelineLength, entries });
    }
  }
}
