/** Wiring only: everything the extension does lives in src/ui (VS Code side) and the core layers. */
import type * as vscode from 'vscode';
import { type KlongUi, registerUi } from './ui/register';

/** The returned API is for the e2e tests (extension mode Test) only; other extensions get nothing. */
export function activate(context: vscode.ExtensionContext): { ui: KlongUi } | undefined {
  const ui = registerUi(context);
  return context.extensionMode === 3 /* vscode.ExtensionMode.Test */ ? { ui } : undefined;
}

export function deactivate(): void {}
