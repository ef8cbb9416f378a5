import { randomBytes } from 'node:crypto';
import type * as vscode from 'vscode';

/** HTML shell of a webview: strict CSP with a nonce; scripts only from our bundle folder. */
export function webviewHtml(
  webview: vscode.Webview,
  root: vscode.Uri,
  entry: string,
  title: string,
  data: Record<string, string> = {},
): string {
  const nonce = randomBytes(16).toString('base64');
  const src = webview.cspSource;
  const script = webview.asWebviewUri(joinUri(root, `${entry}.js`));
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}' ${src}`,
    `style-src ${src} 'unsafe-inline'`,
    `img-src ${src} data: blob:`,
    `font-src ${src} data:`,
    `worker-src ${src} blob:`,
    `connect-src ${src}`,
  ].join('; ');
  // Codicons: the font shipped beside the bundles (esbuild.mjs copies it), loaded under font-src.
  const font = webview.asWebviewUri(joinUri(root, 'codicon.ttf')).toString();
  const attrs = Object.entries({ 'codicon-font': font, ...data })
    .map(([k, v]) => ` data-${k}="${escapeAttr(v)}"`)
    .join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${title}</title>
</head>
<body>
<div id="app" data-klong-view="${entry}" data-nonce="${nonce}"${attrs}></div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

function joinUri(root: vscode.Uri, file: string): vscode.Uri {
  return root.with({ path: `${root.path}/${file}` });
}

function escapeAttr(v: string): string {
  return v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
