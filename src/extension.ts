/** Wiring only: everything the extension does lives in src/ui (VS Code side) and the core layers. */
import type * as vscode from 'vscode';
import { registerUi } from './ui/register';

export function activate(context: vscode.ExtensionContext): void {
  registerUi(context);
}

export function deactivate(): void {}
