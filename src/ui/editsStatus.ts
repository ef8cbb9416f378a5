/** Status bar: the approval-mode switch and the count of pending proposals. */
import * as vscode from 'vscode';
import { APPROVAL_MODES, type ApprovalMode } from '../edits/queue';

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

export class EditsStatus implements vscode.Disposable {
  private readonly mode = vscode.window.createStatusBarItem(
    'klong.edits.mode',
    vscode.StatusBarAlignment.Left,
    40,
  );
  private readonly count = vscode.window.createStatusBarItem(
    'klong.edits.count',
    vscode.StatusBarAlignment.Left,
    39,
  );

  constructor() {
    this.mode.name = 'KLong: edit approval mode';
    this.mode.command = 'klong.setApprovalMode';
    this.count.name = 'KLong: proposed edits';
    this.count.command = 'klong.showProposals';
  }

  update(active: boolean, mode: ApprovalMode, pending: number): void {
    if (!active) {
      this.mode.hide();
      this.count.hide();
      return;
    }
    const l = LABELS[mode];
    this.mode.text = `${l.icon} Edits: ${l.title}`;
    this.mode.tooltip = `${l.detail}\nClick to change how KLong's changes reach your files.`;
    this.mode.show();
    this.count.text = `$(diff) ${pending} proposed edit${pending === 1 ? '' : 's'}`;
    this.count.tooltip = 'Review the agent’s proposed edits';
    this.count.backgroundColor =
      pending > 0 ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    if (pending > 0) this.count.show();
    else this.count.hide();
  }

  dispose(): void {
    this.mode.dispose();
    this.count.dispose();
  }
}
