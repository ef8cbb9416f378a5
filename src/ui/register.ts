import * as vscode from 'vscode';
import { registerEdits } from './editsController';
import { ProgressViewProvider } from './progressView';

export function registerUi(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('KLong', { log: true });
  const progress = new ProgressViewProvider(context.extensionUri);
  // Proposed edits: commands from activation; the returned EditsController takes a session's queue (setQueue).
  registerEdits(context, log);
  void vscode.commands.executeCommand('setContext', 'klong.sessionState', 'idle');

  const noSession = () => vscode.window.showInformationMessage('No KLong session is running.');
  context.subscriptions.push(
    log,
    vscode.window.registerWebviewViewProvider(ProgressViewProvider.viewId, progress),
    vscode.commands.registerCommand('klong.reproducePaper', () =>
      vscode.window.showWarningMessage('KLong: reproducing papers is not wired up in this build yet.'),
    ),
    vscode.commands.registerCommand('klong.pauseSession', noSession),
    vscode.commands.registerCommand('klong.resumeSession', noSession),
    vscode.commands.registerCommand('klong.stopSession', noSession),
    vscode.commands.registerCommand('klong.setApiKey', noSession),
    vscode.commands.registerCommand('klong.testConnection', noSession),
    vscode.commands.registerCommand('klong.showLog', () => log.show()),
  );
}
