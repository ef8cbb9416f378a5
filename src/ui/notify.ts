import * as vscode from 'vscode';

export interface ErrorNotice {
  /** Offer "Retry" and run this when chosen. */
  retry?: () => unknown;
  /** Offer "Settings" opened on this query (e.g. "klong.docker"). */
  settings?: string;
  /** Offer "Open log" (default true). */
  log?: boolean;
}

/**
 * Shows an error with the actions that help: Open log, Retry, Settings. Resolves with the action
 * chosen (after running it), or undefined when dismissed.
 */
export async function notifyError(message: string, notice: ErrorNotice = {}): Promise<string | undefined> {
  const actions: string[] = [];
  if (notice.retry) actions.push('Retry');
  if (notice.settings) actions.push('Settings');
  if (notice.log !== false) actions.push('Open log');
  const text = message.startsWith('KLong') ? message : `KLong: ${message}`;
  const choice = await vscode.window.showErrorMessage(text, ...actions);
  if (choice === 'Retry') await notice.retry?.();
  else if (choice === 'Settings')
    await vscode.commands.executeCommand('workbench.action.openSettings', notice.settings);
  else if (choice === 'Open log') await vscode.commands.executeCommand('klong.showLog');
  return choice;
}

/**
 * True in a trusted workspace. Otherwise shows `message` (why the action needs trust) with "Manage
 * Workspace Trust", opens that when chosen, and returns false.
 */
export async function requireTrust(message: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const choice = await vscode.window.showErrorMessage(message, 'Manage Workspace Trust');
  if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}
