/** Styles of the paper panel: theme variables for the chrome; pages stay white like paper. */
export const paperCss = `
html, body { height: 100%; }
body { margin: 0; padding: 0; color: var(--vscode-foreground); font-family: var(--vscode-font-family);
  font-size: var(--vscode-font-size); overflow: hidden; }
#app { display: flex; flex-direction: column; height: 100vh; }
.muted { color: var(--vscode-descriptionForeground); }
:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
.toolbar { display: flex; align-items: center; gap: 4px; padding: 4px 8px; flex-wrap: wrap;
  border-bottom: 1px solid var(--vscode-panel-border, rgba(128,128,128,.35)); background: var(--vscode-editor-background); }
.toolbar .sep { width: 8px; }
button.icon { min-width: 26px; height: 24px; font: inherit; color: var(--vscode-icon-foreground, var(--vscode-foreground));
  background: transparent; border: 1px solid transparent; border-radius: 3px; cursor: pointer; }
button.icon:hover { background: var(--vscode-toolbar-hoverBackground); }
button.link { background: none; border: none; color: var(--vscode-textLink-foreground); cursor: pointer; font: inherit; }
input { font: inherit; color: var(--vscode-input-foreground); background: var(--vscode-input-background);
  border: 1px solid var(--vscode-input-border, transparent); padding: 2px 4px; }
#page { width: 48px; }
#search { width: 160px; }
.zoom { min-width: 40px; text-align: center; }
.reading-banner { display: flex; gap: 8px; align-items: center; padding: 3px 8px;
  background: var(--vscode-editorInfo-background, var(--vscode-editorWidget-background));
  border-bottom: 1px solid var(--vscode-editorInfo-foreground, var(--vscode-focusBorder)); }
.reading-banner[hidden] { display: none; }
.body { flex: 1; display: flex; min-height: 0; }
.outline { width: 220px; flex: none; overflow: auto; border-right: 1px solid var(--vscode-panel-border, rgba(128,128,128,.35)); }
.outline.hidden { display: none; }
.outline ul { list-style: none; margin: 0; padding: 4px 0; }
.outline .pad { padding: 8px; }
button.section { display: flex; gap: 4px; width: 100%; text-align: left; font: inherit; color: var(--vscode-foreground);
  background: none; border: none; padding: 3px 8px; cursor: pointer; }
button.section .st { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
button.section:hover { background: var(--vscode-list-hoverBackground); }
button.section.l2 { padding-left: 20px; } button.section.l3 { padding-left: 32px; } button.section.l4 { padding-left: 44px; }
button.section.reading { background: var(--vscode-list-activeSelectionBackground); color: var(--vscode-list-activeSelectionForeground);
  font-weight: 600; border-left: 3px solid var(--vscode-focusBorder); }
.badge { border-radius: 8px; padding: 0 6px; font-size: 10px; background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); }
.main { flex: 1; min-width: 0; display: flex; }
.message { padding: 16px; }
.message.error { color: var(--vscode-errorForeground); }
.pages { flex: 1; overflow: auto; padding: 8px 16px; background: var(--vscode-editorWidget-background, #808080); }
.page { --scale-round-x: 1px; --scale-round-y: 1px; position: relative; margin: 0 auto 12px; background: #fff; box-shadow: 0 1px 4px var(--vscode-widget-shadow, rgba(0,0,0,.35));
  border: 1px solid var(--vscode-contrastBorder, transparent); }
.page.flash { outline: 3px solid var(--vscode-focusBorder); }
.page canvas { display: block; }
.page-error { padding: 16px; color: var(--vscode-errorForeground); }
.textLayer { position: absolute; text-align: initial; inset: 0; overflow: clip; opacity: 1; line-height: 1;
  text-size-adjust: none; forced-color-adjust: none; transform-origin: 0 0; caret-color: CanvasText; z-index: 0;
  --min-font-size: 1; --text-scale-factor: calc(var(--total-scale-factor) * var(--min-font-size));
  --min-font-size-inv: calc(1 / var(--min-font-size)); }
.textLayer :is(span, br) { color: transparent; position: absolute; white-space: pre; cursor: text; transform-origin: 0% 0%; }
.textLayer > :not(.markedContent), .textLayer .markedContent span:not(.markedContent) { z-index: 1; --font-height: 0;
  font-size: calc(var(--text-scale-factor) * var(--font-height)); --scale-x: 1; --rotate: 0deg;
  transform: rotate(var(--rotate)) scaleX(var(--scale-x)) scale(var(--min-font-size-inv)); }
.textLayer .markedContent { display: contents; }
.textLayer ::selection { background: var(--vscode-editor-selectionBackground, rgba(0, 100, 255, .3)); }
.textLayer br::selection { background: transparent; }
.textLayer .endOfContent { display: block; position: absolute; inset: 100% 0 0; z-index: 0; cursor: default; user-select: none; }
.textLayer span.match { background: var(--vscode-editor-findMatchHighlightBackground, rgba(255, 200, 0, .45)); border-radius: 2px; }
.annotationLayer { position: absolute; inset: 0; pointer-events: none; transform-origin: 0 0; z-index: 3; }
.annotationLayer section { position: absolute; pointer-events: auto; box-sizing: border-box; transform-origin: 0 0; }
.annotationLayer .linkAnnotation > a { position: absolute; inset: 0; font-size: 1em; }
.annotationLayer .linkAnnotation > a:hover { opacity: .2; background: #ff0; box-shadow: 0 2px 10px #ff0; }
.toolbar .pdf-only { display: contents; }
.markdown-paper .toolbar .pdf-only { display: none; }
#pdf-outline { max-width: 180px; font: inherit; color: var(--vscode-dropdown-foreground); background: var(--vscode-dropdown-background);
  border: 1px solid var(--vscode-dropdown-border, transparent); }
#pdf-outline[hidden] { display: none; }
.md-scroll { flex: 1; overflow: auto; padding: 12px 24px; }
.md-paper { max-width: 860px; margin: 0 auto; font-size: 14px; }
.md-paper .flash { outline: 2px solid var(--vscode-focusBorder); outline-offset: 2px; }
.textLayer span.heading-mark { background: var(--vscode-editor-wordHighlightBackground, rgba(0, 120, 255, .25));
  outline: 2px solid var(--vscode-focusBorder, rgba(0, 120, 255, .6)); }
`;
