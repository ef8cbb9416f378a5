/** The approval mode (setting, picker) and the edits' state the status bar shows. */
import * as vscode from 'vscode';
import { APPROVAL_MODES, type ApprovalMode } from '../../edits/queue';
import type { EditsState } from '../model/status-text';

const SETTING = 'klong.edits.approvalMode';

const LABELS: Record<ApprovalMode, { title: string; icon: string; detail: string }> = {
  review: {
    title: 'Review',
    icon: '$(eye)',
    detail: 'Proposals queue while the agent keeps working; you accept or reject them.',
  },
  'auto-accept': {
    title: 'Auto-accept',
    icon: '$(check-all)',
    detail: 'Every change is applied to your files at once (each is still undoable).',
  },
  'ask-each': {
    title: 'Ask each',
    icon: '$(question)',
    detail: 'The agent waits for your decision on each change.',
  },
};

export function modeFromSettings(): ApprovalMode {
  const v = vscode.workspace.getConfiguration().get<string>(SETTING, 'review');
  return (APPROVAL_MODES as readonly string[]).includes(v) ? (v as ApprovalMode) : 'review';
}

/** Writes the mode where it takes effect: the workspace if it already sets one, else the user settings. */
export async function saveMode(mode: ApprovalMode): Promise<void> {
  const config = vscode.workspace.getConfiguration();
  const inspect = config.inspect<string>(SETTING);
  const target =
    inspect?.workspaceFolderValue !== undefined || inspect?.workspaceValue !== undefined
      ? vscode.ConfigurationTarget.Workspace
      : vscode.ConfigurationTarget.Global;
  await config.update(SETTING, mode, target);
}

export async function pickMode(current: ApprovalMode): Promise<ApprovalMode | undefined> {
  const items = APPROVAL_MODES.map((m) => ({
    label: `${LABELS[m].icon} ${LABELS[m].title}`,
    description: m === current ? 'current' : '',
    detail: LABELS[m].detail,
    mode: m,
  }));
  const pick = await vscode.window.showQuickPick(items, {
    title: 'How should KLong’s changes reach your files?',
  });
  return pick?.mode;
}

/** The edits' state for the one status bar item (src/ui/status-bar.ts shows it, counted once). */
export class EditsStatus implements vscode.Disposable {
  private current: EditsState = { active: false, mode: 'review', pending: 0, waiting: false };
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onChange = (listener: () => void): vscode.Disposable => this.emitter.event(listener);

  get state(): EditsState {
    return this.current;
  }

  update(active: boolean, mode: ApprovalMode, pending: number): void {
    this.current = { ...this.current, active, mode, pending };
    this.emitter.fire();
  }

  /** ask-each: the agent waits for the user's decision while `waiting`. */
  setWaiting(waiting: boolean): void {
    if (this.current.waiting === waiting) return;
    this.current = { ...this.current, waiting };
    this.emitter.fire();
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
