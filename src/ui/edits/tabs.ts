/** Which proposal the active tab or editor shows, and closing the diff tabs of decided proposals. */
import * as vscode from 'vscode';
import type { Proposal } from '../../edits/proposal';
import { pathOfProposalUri } from './documents';

/** The document a text tab shows (a diff's right side), or undefined for other tabs. */
function tabUri(tab: vscode.Tab | undefined): vscode.Uri | undefined {
  const input = tab?.input;
  if (input instanceof vscode.TabInputTextDiff) return input.modified;
  if (input instanceof vscode.TabInputText) return input.uri;
  return undefined;
}

/** Every tab showing a proposal document (a diff's right side or the document alone). */
function* proposalTabEntries(): Generator<{ tab: vscode.Tab; uri: vscode.Uri; path: string }> {
  for (const g of vscode.window.tabGroups.all) {
    for (const tab of g.tabs) {
      const uri = tabUri(tab);
      const path = uri && pathOfProposalUri(uri);
      if (path) yield { tab, uri, path };
    }
  }
}

/** The proposal documents shown in a tab now, each once. */
export function proposalTabs(): vscode.Uri[] {
  const shown = new Map<string, vscode.Uri>();
  for (const { uri } of proposalTabEntries()) shown.set(uri.toString(), uri);
  return [...shown.values()];
}

/** The path of the proposal in the active tab (its diff or its document), else in the active editor. */
export function activeProposalPath(): string | undefined {
  const uri = tabUri(vscode.window.tabGroups.activeTabGroup.activeTab);
  if (uri) return pathOfProposalUri(uri);
  const doc = vscode.window.activeTextEditor?.document;
  return doc ? pathOfProposalUri(doc.uri) : undefined;
}

/** The hunk under the cursor when the active editor shows the proposal (its only hunk when it has one). */
export function hunkAtCursor(p: Proposal): number | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor || pathOfProposalUri(editor.document.uri) !== p.path) return undefined;
  const line = editor.selection.active.line;
  const h = p.hunks.find((x) => line >= x.newStart - 1 && line < x.newStart - 1 + Math.max(x.newLines, 1));
  return h?.index ?? (p.hunks.length === 1 ? p.hunks[0]!.index : undefined);
}

/** A decided proposal's diff tab has nothing left to show: closes those whose path is no longer pending. */
export function closeDecidedDiffs(pending: (path: string) => boolean): void {
  const stale = [...proposalTabEntries()]
    .filter((e) => e.uri.query !== 'side=empty' && !pending(e.path))
    .map((e) => e.tab);
  if (stale.length) void vscode.window.tabGroups.close(stale, true);
}
