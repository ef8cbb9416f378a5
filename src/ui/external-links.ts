/** Links the webviews ask to open: checked again here, then opened by VS Code (the user's browser). */
import * as vscode from 'vscode';
import { isExternalUrl } from '../protocol/links';

export class ExternalLinks {
  /** What opens a checked link; the e2e tests replace it to see what would have opened. */
  opener: (uri: vscode.Uri) => Thenable<boolean> = (uri) => vscode.env.openExternal(uri);

  constructor(private readonly log: (message: string) => void) {}

  /** Opens an http(s) or mailto link from a webview; anything else is logged and dropped. */
  async open(url: string, from: string): Promise<void> {
    if (!isExternalUrl(url)) {
      this.log(`${from} asked to open "${url.slice(0, 200)}": not an http(s) or mailto link; ignored`);
      return;
    }
    // strict: an already-encoded URL must reach the browser as it is, not encoded twice.
    const ok = await this.opener(vscode.Uri.parse(url, true));
    if (!ok) this.log(`${from}: VS Code did not open ${url}`);
  }
}
