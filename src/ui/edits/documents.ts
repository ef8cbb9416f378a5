/**
 * The read-only `klong-proposal:` documents (the right side of a proposal's diff) and the
 * CodeLens above each hunk in them. A document's URI is fixed per path; its content follows the
 * queue, so an open diff updates when the agent changes the file again or a hunk is decided.
 */
import * as vscode from 'vscode';
import { describeHunk } from '../../edits/hunks';
import type { Proposal } from '../../edits/proposal';
import type { ReviewQueue } from '../../edits/queue';

export const PROPOSAL_SCHEME = 'klong-proposal';

/** `side=empty` is the blank left side of a new file's diff. */
export function proposalUri(path: string, side: 'proposal' | 'empty' = 'proposal'): vscode.Uri {
  return vscode.Uri.from({
    scheme: PROPOSAL_SCHEME,
    path: `/${path}`,
    query: side === 'empty' ? 'side=empty' : '',
  });
}

export function pathOfProposalUri(uri: vscode.Uri): string | undefined {
  if (uri.scheme !== PROPOSAL_SCHEME) return undefined;
  return uri.path.replace(/^\/+/, '');
}

/** What the right side of the diff shows for a proposal. */
export function proposalText(p: Proposal | undefined): string {
  if (!p) return 'This proposed edit was decided or withdrawn by the agent.\n';
  if (p.wholeFileOnly) return `${p.note ?? 'No text diff for this file.'}\n`;
  if (p.change === 'deleted') return '';
  return p.after ?? '';
}

export class ProposalDocuments implements vscode.TextDocumentContentProvider, vscode.CodeLensProvider {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  private readonly lensEmitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changeEmitter.event;
  readonly onDidChangeCodeLenses = this.lensEmitter.event;

  constructor(private readonly queue: () => ReviewQueue | undefined) {}

  provideTextDocumentContent(uri: vscode.Uri): string {
    if (uri.query === 'side=empty') return '';
    const path = pathOfProposalUri(uri);
    return proposalText(path ? this.queue()?.get(path) : undefined);
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const path = pathOfProposalUri(doc.uri);
    const p = path && doc.uri.query !== 'side=empty' ? this.queue()?.get(path) : undefined;
    if (!p) return [];
    const top = new vscode.Range(0, 0, 0, 0);
    const lenses = [
      new vscode.CodeLens(top, {
        title: `$(check) Accept file${p.hunks.length > 1 ? ` (${p.hunks.length} changes)` : ''}`,
        command: 'klong.acceptProposal',
        arguments: [p.path, p.version],
      }),
      new vscode.CodeLens(top, {
        title: '$(close) Reject file…',
        command: 'klong.rejectProposal',
        arguments: [p.path, p.version],
      }),
    ];
    if (p.hunks.length < 2) return lenses;
    for (const h of p.hunks) {
      const line = Math.min(h.anchorLine, Math.max(doc.lineCount - 1, 0));
      const at = new vscode.Range(line, 0, line, 0);
      const what = `${describeHunk(h)}: +${h.additions} −${h.deletions}`;
      lenses.push(
        new vscode.CodeLens(at, {
          title: '$(check) Accept change',
          tooltip: `Accept this change (${what})`,
          command: 'klong.acceptHunk',
          arguments: [p.path, h.index, p.version],
        }),
        new vscode.CodeLens(at, {
          title: '$(close) Reject change…',
          tooltip: `Reject this change (${what}); the agent is told why`,
          command: 'klong.rejectHunk',
          arguments: [p.path, h.index, p.version],
        }),
      );
    }
    return lenses;
  }

  /**
   * Re-render the pending proposals shown in a tab, and every lens. Any other proposal document is
   * closing or closed: the workbench may dispose its model while the new text is being read, and
   * then logs "Model is disposed!". A document opened again is read afresh (see EditsController.open).
   */
  refresh(shown: vscode.Uri[]): void {
    for (const uri of shown) {
      const path = pathOfProposalUri(uri);
      if (path && uri.query !== 'side=empty' && this.queue()?.get(path)) this.changeEmitter.fire(uri);
    }
    this.lensEmitter.fire();
  }

  dispose(): void {
    this.changeEmitter.dispose();
    this.lensEmitter.dispose();
  }
}
