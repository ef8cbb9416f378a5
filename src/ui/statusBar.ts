import * as vscode from 'vscode';
import type { SessionModel } from './sessionModel';
import { contextState, statusText } from './statusText';

/** Status bar item with the session state; a click focuses the progress view. */
export class SessionStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'klong.session',
    vscode.StatusBarAlignment.Left,
    50,
  );
  private readonly unsubscribe: () => void;
  private readonly timer: NodeJS.Timeout;
  private lastContext = '';

  constructor(
    private readonly model: SessionModel,
    focusCommand = 'klong.progress.focus',
  ) {
    this.item.name = 'KLong session';
    this.item.command = focusCommand;
    this.unsubscribe = model.onChange(() => this.update());
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

  update(): void {
    const s = this.model.snapshot;
    const { text, tooltip } = statusText(s, Date.now());
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.backgroundColor =
      s.status === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    if (s.session) this.item.show();
    else this.item.hide();
    const ctx = contextState(s.status);
    if (ctx !== this.lastContext) {
      this.lastContext = ctx;
      void vscode.commands.executeCommand('setContext', 'klong.sessionState', ctx);
    }
  }

  dispose(): void {
    this.unsubscribe();
    clearInterval(this.timer);
    this.item.dispose();
  }
}
