import * as vscode from 'vscode';
import type { SessionModel } from './model/session-model';
import { contextState, type EditsState, statusMenu, statusText, statusTone } from './model/status-text';

/** Where the status bar reads the edits' state (the EditsController's EditsStatus). */
export interface EditsSource {
  readonly state: EditsState;
  onChange(listener: () => void): vscode.Disposable;
}

/**
 * The one KLong status bar item: the session's state, time, cost and pending edits (counted once).
 * A click opens a menu of the session's actions.
 */
export class SessionStatusBar implements vscode.Disposable {
  static readonly menuCommand = 'klong.statusMenu';
  private readonly item = vscode.window.createStatusBarItem(
    'klong.session',
    vscode.StatusBarAlignment.Left,
    50,
  );
  private readonly disposables: vscode.Disposable[] = [];
  private readonly unsubscribe: () => void;
  private readonly timer: NodeJS.Timeout;
  private lastContext = '';

  constructor(
    private readonly model: SessionModel,
    private readonly edits?: EditsSource,
  ) {
    this.item.name = 'KLong session';
    this.item.command = SessionStatusBar.menuCommand;
    this.unsubscribe = model.onChange(() => this.update());
    if (edits) this.disposables.push(edits.onChange(() => this.update()));
    this.disposables.push(vscode.commands.registerCommand(SessionStatusBar.menuCommand, () => this.menu()));
    // Each second while a retry counts down; otherwise the active time, every 30 s.
    let ticks = 0;
    this.timer = setInterval(() => {
      const s = this.model.snapshot;
      ticks++;
      if (
        (s.retry && Date.now() < s.retry.until + 1000) ||
        (ticks % 30 === 0 && s.budget.runningSince !== null)
      )
        this.update();
    }, 1000);
    this.update();
  }

  get text(): string {
    return this.item.text;
  }

  /** The background colour's theme id, or undefined for none (e2e and screenshots). */
  get tone(): string | undefined {
    return (this.item.backgroundColor as vscode.ThemeColor | undefined)?.id;
  }

  update(): void {
    const s = this.model.snapshot;
    const edits = this.edits?.state;
    const { text, tooltip } = statusText(s, Date.now(), edits);
    this.item.text = text;
    this.item.tooltip = tooltip;
    const tone = statusTone(s, edits);
    this.item.backgroundColor = tone ? new vscode.ThemeColor(`statusBarItem.${tone}Background`) : undefined;
    if (s.session || edits?.active) this.item.show();
    else this.item.hide();
    const ctx = contextState(s.status);
    if (ctx !== this.lastContext) {
      this.lastContext = ctx;
      void vscode.commands.executeCommand('setContext', 'klong.sessionState', ctx);
    }
  }

  async menu(): Promise<void> {
    const s = this.model.snapshot;
    const items = statusMenu(s, this.edits?.state);
    const pick = await vscode.window.showQuickPick(items, {
      title: s.session ? `KLong: ${s.session.paperTitle} (${s.status})` : 'KLong',
      placeHolder: 'What do you want to do with the session?',
    });
    if (pick) await vscode.commands.executeCommand(pick.command);
  }

  dispose(): void {
    this.unsubscribe();
    clearInterval(this.timer);
    for (const d of this.disposables) d.dispose();
    this.item.dispose();
  }
}
