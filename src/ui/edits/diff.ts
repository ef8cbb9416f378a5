/** A proposal's diff editor: its two sides and title, opened as a preview, and the one-time CodeLens hint. */
import * as vscode from 'vscode';
import type { Proposal } from '../../edits/proposal';
import { proposalUri } from './documents';
import type { VscodeUserFiles } from './workspace';

/** The diff's title says what kind of change the agent proposes. */
export function diffTitle(p: Proposal): string {
  // A sensitive change says so where the user looks before accepting.
  const mark = p.sensitive ? ` ⚠ sensitive: ${p.sensitive}` : '';
  return `${kindTitle(p)}${mark}`;
}

function kindTitle(p: Proposal): string {
  return p.renamedFrom
    ? `${p.renamedFrom} → ${p.path} (renamed by KLong)`
    : p.change === 'deleted'
      ? `${p.path} (deleted by KLong)`
      : p.change === 'added'
        ? `${p.path} (new file proposed by KLong)`
        : `${p.path} ↔ KLong proposal`;
}

export class ProposalDiffs {
  private codeLensHintShown = false;

  /** Shows the user's file against the proposal as a preview; a whole-file proposal opens alone. */
  async show(p: Proposal, userFiles: VscodeUserFiles, preserveFocus: boolean): Promise<void> {
    const right = proposalUri(p.path);
    const options: vscode.TextDocumentShowOptions = { preview: true, preserveFocus };
    if (p.wholeFileOnly) {
      await vscode.window.showTextDocument(right, options);
      return;
    }
    const leftPath = p.renamedFrom ?? p.path;
    const left =
      (await userFiles.read(leftPath)) !== null ? userFiles.uri(leftPath) : proposalUri(p.path, 'empty');
    await vscode.commands.executeCommand('vscode.diff', left, right, diffTitle(p), options);
    this.codeLensHint(p);
  }

  /** Per-hunk buttons in a diff need CodeLens there, which VS Code turns off by default. */
  private codeLensHint(p: Proposal): void {
    if (this.codeLensHintShown || p.hunks.length < 2) return;
    if (vscode.workspace.getConfiguration('diffEditor').get<boolean>('codeLens')) return;
    this.codeLensHintShown = true;
    void vscode.window
      .showInformationMessage(
        'KLong: to accept or reject single changes from the diff, turn on CodeLens in diff editors (or use the Accept/Reject Change commands with the cursor in a change).',
        'Turn on',
      )
      .then((a) => {
        if (a === 'Turn on') {
          void vscode.workspace
            .getConfiguration('diffEditor')
            .update('codeLens', true, vscode.ConfigurationTarget.Global);
        }
      });
  }
}
