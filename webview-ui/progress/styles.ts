import { markdownCss } from '../shared/markdown-styles';

/** Styles of the progress view: VS Code theme variables only (light, dark and high contrast). */
export const progressCss = `
:root { color-scheme: light dark; }
body { margin: 0; padding: 0 8px 8px; color: var(--vscode-foreground); font-family: var(--vscode-font-family);
  font-size: var(--vscode-font-size); background: transparent; }
.muted { color: var(--vscode-descriptionForeground); }
h2 { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; margin: 0; font-weight: 600; }
details.group { border-top: 1px solid var(--vscode-panel-border, transparent); padding: 6px 0; }
details.group > summary { cursor: pointer; list-style: none; display: flex; gap: 6px; align-items: center; padding: 2px 0; }
details.group > summary::before { content: '\\eab6'; font: normal 14px/1 codicon; width: 14px; color: var(--vscode-descriptionForeground); }
details.group[open] > summary::before { content: '\\eab4'; }
details.group > summary .count { margin-left: auto; }
:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
button { font: inherit; color: var(--vscode-button-foreground); background: var(--vscode-button-background);
  border: 1px solid var(--vscode-button-border, transparent); border-radius: 2px; padding: 2px 8px; cursor: pointer; }
button:hover:not(:disabled) { background: var(--vscode-button-hoverBackground); }
button.secondary { color: var(--vscode-button-secondaryForeground); background: var(--vscode-button-secondaryBackground); }
button.secondary:hover:not(:disabled) { background: var(--vscode-button-secondaryHoverBackground); }
button:disabled { opacity: .5; cursor: default; }
.header { padding: 8px 0 4px; container-type: inline-size; }
.kv .bar { margin: 2px 0 0; height: 4px; }
.tl-latest { position: absolute; right: 14px; bottom: 6px; z-index: 1; font-size: 11px; padding: 1px 8px; }
.title { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.status-line { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-top: 4px; }
.badge { border-radius: 9px; padding: 0 7px; font-size: 11px; line-height: 18px;
  background: var(--vscode-badge-background); color: var(--vscode-badge-foreground);
  border: 1px solid var(--vscode-contrastBorder, transparent); }
.badge.running, .badge.starting { background: var(--vscode-testing-iconPassed, #388a34); color: var(--vscode-button-foreground); }
.badge.paused { background: var(--vscode-editorWarning-foreground, #bf8803); color: var(--vscode-editor-background); }
.badge.failed { background: var(--vscode-testing-iconFailed, #f14c4c); color: var(--vscode-button-foreground); }
.stages { display: flex; gap: 2px; margin: 6px 0 2px; }
/* Too narrow for six labels: a segmented bar (the status line names the stage). */
@container (max-width: 200px) { .stage { font-size: 0; height: 4px; padding: 0; } }
.stage { flex: 1; text-align: center; font-size: 10px; padding: 1px 0; border-radius: 2px;
  background: var(--vscode-editorWidget-background); color: var(--vscode-descriptionForeground);
  border: 1px solid var(--vscode-contrastBorder, transparent); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.stage.done { color: var(--vscode-foreground); box-shadow: inset 0 -2px var(--vscode-progressBar-background); }
.stage.current { background: var(--vscode-button-background); color: var(--vscode-button-foreground); font-weight: 600; }
.controls { display: flex; gap: 6px; margin: 6px 0; }
.say { display: flex; gap: 6px; margin: 6px 0; align-items: flex-end; }
.say[hidden] { display: none; }
.say textarea { flex: 1; resize: vertical; font: inherit; color: var(--vscode-input-foreground); background: var(--vscode-input-background); border: 1px solid var(--vscode-input-border, transparent); padding: 3px 4px; }
.bar { height: 6px; border-radius: 3px; background: var(--vscode-editorWidget-background, rgba(128,128,128,.2));
  border: 1px solid var(--vscode-contrastBorder, transparent); overflow: hidden; margin: 4px 0; }
.bar > div { height: 100%; background: var(--vscode-progressBar-background); }
.bar.warn > div { background: var(--vscode-editorWarning-foreground); }
.bar.over > div { background: var(--vscode-testing-iconFailed, #f14c4c); }
.kv { display: grid; grid-template-columns: auto 1fr; gap: 1px 10px; font-variant-numeric: tabular-nums; }
.kv dt { color: var(--vscode-descriptionForeground); }
.kv dd { margin: 0; }
ul.plan, ul.edits, ul.jobs { list-style: none; margin: 4px 0 0; padding: 0; }
ul.jobs li { padding: 3px 0; }
ul.jobs .job-head { display: flex; align-items: center; gap: 6px; }
ul.jobs .job-name { flex: 1 1 100px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
ul.jobs .job-state.running { color: var(--vscode-charts-blue); }
ul.jobs .job-state.failed { color: var(--vscode-errorForeground); }
ul.jobs .job-tail { margin: 2px 0 0; padding: 2px 4px; max-height: 6em; overflow: auto; white-space: pre-wrap;
  word-break: break-all; font-family: var(--vscode-editor-font-family); font-size: 0.9em;
  background: var(--vscode-textCodeBlock-background); }
ul.plan li { display: flex; gap: 6px; padding: 1px 0; }
ul.plan li.done { color: var(--vscode-descriptionForeground); text-decoration: line-through; }
ul.plan li.doing { font-weight: 600; }
ul.edits li { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 6px; padding: 3px 0;
  border-bottom: 1px solid var(--vscode-panel-border, transparent); }
ul.edits .path { flex: 1 1 120px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
  font-family: var(--vscode-editor-font-family); }
ul.edits .actions { display: flex; gap: 4px; }
.add { color: var(--vscode-gitDecoration-addedResourceForeground, #81b88b); }
.del { color: var(--vscode-gitDecoration-deletedResourceForeground, #c74e39); }
.decided { color: var(--vscode-descriptionForeground); font-style: italic; }
.sensitive { color: var(--vscode-editorWarning-foreground, #cca700); font-weight: 600; }
.rubric details details { margin-left: 14px; }
.rubric summary { cursor: pointer; display: flex; gap: 6px; list-style: none; padding: 1px 0; }
.rubric summary::-webkit-details-marker { display: none; }
.rubric summary::before { content: '\\eab6'; font: normal 14px/1 codicon; width: 14px; flex: none; color: var(--vscode-descriptionForeground); }
.rubric details[open] > summary::before { content: '\\eab4'; }
.rubric summary:hover, .rubric .leaf:hover { background: var(--vscode-list-hoverBackground); }
.rubric .req { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.rubric .leaf { margin-left: 14px; display: flex; gap: 6px; padding: 1px 0 1px 16px; }
.score { font-variant-numeric: tabular-nums; min-width: 38px; text-align: right; }
.score.s0 { color: var(--vscode-testing-iconFailed, #f14c4c); }
.score.s1 { color: var(--vscode-testing-iconPassed, #388a34); }
.score.warn { color: var(--vscode-editorWarning-foreground, #cca700); }
.end-checks { margin-bottom: 6px; }
.end-checks .spark { width: 160px; height: 32px; display: block; margin: 4px 0; }
.end-checks .spark polyline { fill: none; stroke: var(--vscode-charts-blue, #3794ff); stroke-width: 1.5; }
.end-checks .spark circle { fill: var(--vscode-charts-blue, #3794ff); }
.end-checks .spark .target { stroke: var(--vscode-descriptionForeground, #888); stroke-dasharray: 3 3; }
.end-checks table.checks { border-collapse: collapse; font-size: 0.9em; }
.end-checks th, .end-checks td { padding: 1px 6px 1px 0; text-align: left; }
.end-checks td.req { max-width: 180px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.error-banner { margin: 6px 0; padding: 4px 6px; border-left: 3px solid var(--vscode-inputValidation-errorBorder, #be1100);
  background: var(--vscode-inputValidation-errorBackground, transparent); white-space: pre-wrap; word-break: break-word; }
.timeline { position: relative; border: 1px solid var(--vscode-panel-border, rgba(128,128,128,.35)); }
.tl-scroller { position: relative; height: 45vh; min-height: 160px; overflow: auto; }
.tl-spacer { position: relative; width: 100%; }
.tl-row { position: absolute; left: 0; right: 0; cursor: pointer; font-size: 12px; }
.tl-row:hover > .tl-line { background: var(--vscode-list-hoverBackground); }
.tl-row:focus { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
.tl-row.abandoned > .tl-line { opacity: 0.55; }
.tl-row.abandoned .tl-title { text-decoration: line-through; text-decoration-color: var(--vscode-descriptionForeground); }
.tl-line { display: flex; align-items: center; gap: 6px; height: 24px; padding: 0 6px; white-space: nowrap; }
.tl-state { width: 7px; height: 7px; border-radius: 50%; flex: none; background: var(--vscode-descriptionForeground); }
.tl-state.ok { background: var(--vscode-testing-iconPassed, #388a34); }
.tl-state.failed { background: var(--vscode-testing-iconFailed, #f14c4c); }
.tl-state.warn { background: var(--vscode-editorWarning-foreground, #bf8803); }
.tl-state.running { background: var(--vscode-progressBar-background); animation: pulse 1s infinite alternate; }
@keyframes pulse { from { opacity: 1; } to { opacity: .3; } }
@media (prefers-reduced-motion: reduce) { .tl-state.running { animation: none; } }
.tl-time, .tl-step, .tl-dur { color: var(--vscode-descriptionForeground); font-variant-numeric: tabular-nums; flex: none; }
.tl-kind { width: 16px; text-align: center; flex: none; color: var(--vscode-descriptionForeground); }
.tl-title { flex: 1; overflow: hidden; text-overflow: ellipsis; }
.tl-live { flex: 1 1 0; max-width: 45%; min-width: 0; overflow: hidden; text-overflow: ellipsis; color: var(--vscode-descriptionForeground); font-family: var(--vscode-editor-font-family); font-size: 0.95em; }
.activity { margin: 4px 0; }
.activity:empty { display: none; }
.tl-detail { margin: 0 6px 8px 20px; overflow: auto; cursor: auto; border-left: 2px solid var(--vscode-focusBorder);
  padding-left: 6px; }
.tl-detail-label { font-weight: 600; font-size: 11px; margin-top: 4px; }
.tl-pre { margin: 2px 0; padding: 4px; white-space: pre-wrap; word-break: break-all; font-size: 12px;
  font-family: var(--vscode-editor-font-family); background: var(--vscode-textCodeBlock-background); }
.empty { padding: 12px 0; }
${markdownCss}
`;
