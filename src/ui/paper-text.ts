/**
 * "KLong: Show paper as the agent reads it": the Markdown pinned in the agent's context, made from a
 * PDF in the explorer or the editor — to check what hours of work will be based on before starting.
 */
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { stateDirSetting } from './state-dir';

/** The PDF (or Markdown paper) of the active editor tab, whatever editor shows it. */
function activePaper(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const uri =
    input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
  return uri && /\.(pdf|md)$/i.test(uri.path) ? uri : undefined;
}

export function registerPaperText(
  _context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
): vscode.Disposable {
  return vscode.commands.registerCommand('klong.showPaperText', async (arg?: vscode.Uri) => {
    const uri = arg instanceof vscode.Uri ? arg : activePaper();
    if (uri?.scheme !== 'file') {
      void vscode.window.showInformationMessage(
        'KLong: open a paper (PDF) or select one in the Explorer first.',
      );
      return;
    }
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `KLong: reading ${basename(uri.fsPath)}…` },
      async () => {
        try {
          const { loadPaper } = await import('../engine/extension-api');
          // The cache Reproduce and the CLI use (the shared session folder's).
          const cacheDir = join(stateDirSetting(), 'cache', 'papers');
          const paper = await loadPaper(uri.fsPath, { cacheDir });
          const doc = await vscode.workspace.openTextDocument({
            language: 'markdown',
            content: paper.markdown,
          });
          await vscode.window.showTextDocument(doc, { preview: true });
          log.info(
            `Paper text of ${uri.fsPath}: "${paper.title}", ${paper.sections.length} sections, ${paper.markdown.length} characters.`,
          );
        } catch (err) {
          // PaperError messages name the file and say what to do (scanned PDF: OCR it; truncated: download
          // again); the file's name is enough in a notification, its full path hides the reason.
          const message = err instanceof Error ? err.message : String(err);
          void vscode.window.showErrorMessage(`KLong: ${message.replace(uri.fsPath, basename(uri.fsPath))}`);
        }
      },
    );
  });
}
