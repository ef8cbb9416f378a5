import * as vscode from 'vscode';
import { webviewHtml } from './webviewHtml';

/** The activity-bar view: status, budget, plan, timeline and proposed edits of the session. */
export class ProgressViewProvider implements vscode.WebviewViewProvider {
  static readonly viewId = 'klong.progress';

  constructor(private readonly extensionUri: vscode.Uri) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    const root = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    view.webview.options = { enableScripts: true, localResourceRoots: [root] };
    view.webview.html = webviewHtml(view.webview, root, 'progress', 'KLong progress');
  }
}
