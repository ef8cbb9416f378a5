/** Which paper to reproduce: a PDF of the workspace, a PDF or Markdown file, or a URL / arXiv id. */
import * as vscode from 'vscode';

/** A local path or what the user typed (URL or arXiv id); undefined when dismissed. */
export async function pickPaper(): Promise<string | undefined> {
  const pdfs = await vscode.workspace.findFiles('**/*.pdf', '**/node_modules/**', 30);
  type Item = vscode.QuickPickItem & { value?: string; action?: 'browse' | 'url' };
  const items: Item[] = [
    ...pdfs.map((u) => ({ label: `$(file-pdf) ${vscode.workspace.asRelativePath(u)}`, value: u.fsPath })),
    { label: '$(folder-opened) Choose a PDF or Markdown file…', action: 'browse' },
    { label: '$(link) Enter a URL or an arXiv id…', action: 'url' },
  ];
  const pick = await vscode.window.showQuickPick(items, {
    title: 'KLong: which paper?',
    ignoreFocusOut: true,
  });
  if (!pick) return undefined;
  if (pick.value) return pick.value;
  if (pick.action === 'browse') {
    const files = await vscode.window.showOpenDialog({
      canSelectMany: false,
      filters: { Papers: ['pdf', 'md', 'tex', 'gz', 'tgz', 'tar', 'zip'] },
      openLabel: 'Reproduce',
    });
    return files?.[0]?.fsPath;
  }
  return vscode.window.showInputBox({
    title: 'KLong: paper URL or arXiv id',
    placeHolder: 'https://…/paper.pdf, 2602.17547 or arxiv.org/abs/2602.17547',
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() ? undefined : 'Enter a URL or an arXiv id'),
  });
}
