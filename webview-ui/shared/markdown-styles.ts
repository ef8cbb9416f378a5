/** Styles of rendered Markdown (.md): theme variables, compact enough for a side view. */
export const markdownCss = `
.md { line-height: 1.45; word-break: break-word; }
.md > :first-child { margin-top: 0; }
.md h1, .md h2, .md h3, .md h4, .md h5, .md h6 { margin: .9em 0 .35em; font-weight: 600; line-height: 1.25;
  text-transform: none; letter-spacing: normal; }
.md h1 { font-size: 1.5em; } .md h2 { font-size: 1.3em; } .md h3 { font-size: 1.15em; } .md h4, .md h5, .md h6 { font-size: 1em; }
.md p, .md ul, .md ol, .md blockquote, .md pre, .md table { margin: .4em 0; }
.md ul, .md ol { padding-left: 1.6em; }
.md a { color: var(--vscode-textLink-foreground); text-decoration: none; cursor: pointer; }
.md a:hover { text-decoration: underline; color: var(--vscode-textLink-activeForeground); }
.md code { font-family: var(--vscode-editor-font-family); font-size: .92em; padding: 0 .25em; border-radius: 3px;
  background: var(--vscode-textCodeBlock-background); }
.md pre { padding: 6px 8px; overflow: auto; background: var(--vscode-textCodeBlock-background); }
.md pre code { padding: 0; background: none; white-space: pre; }
.md blockquote { padding: 0 .8em; border-left: 3px solid var(--vscode-textBlockQuote-border, rgba(128,128,128,.5));
  color: var(--vscode-textBlockQuote-foreground, inherit); }
.md hr { border: 0; border-top: 1px solid var(--vscode-panel-border, rgba(128,128,128,.35)); }
.md table { border-collapse: collapse; }
.md th, .md td { border: 1px solid var(--vscode-panel-border, rgba(128,128,128,.35)); padding: 2px 6px; }
.md .align-right { text-align: right; } .md .align-center { text-align: center; }
.md .math { font-family: var(--vscode-editor-font-family); color: var(--vscode-textPreformat-foreground, inherit); }
.md .math.display { display: block; margin: .5em 0; padding: 4px 8px; white-space: pre-wrap; overflow-x: auto;
  background: var(--vscode-textCodeBlock-background); }
.tl-md { margin: 2px 0; font-size: 12px; }
.tl-md h1 { font-size: 1.25em; } .tl-md h2 { font-size: 1.15em; } .tl-md h3, .tl-md h4, .tl-md h5, .tl-md h6 { font-size: 1.05em; }
`;
