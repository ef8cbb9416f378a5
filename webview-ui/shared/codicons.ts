/**
 * Codicons in the webviews, as in the workbench: the font is shipped next to the bundles
 * (dist/webview/codicon.ttf, found through `data-codicon-font` on #app, inside the CSP's font-src)
 * and `icon(name)` makes a glyph. Only the glyphs KLong uses are listed (code points of the font).
 */
const GLYPHS = {
  account: 0xeb99,
  add: 0xea60,
  'arrow-down': 0xea9a,
  'arrow-left': 0xea9b,
  'arrow-right': 0xea9c,
  'arrow-up': 0xeaa1,
  beaker: 0xea79,
  'chevron-down': 0xeab4,
  'chevron-right': 0xeab6,
  'circle-filled': 0xea71,
  'circle-large-filled': 0xebb4,
  'circle-large-outline': 0xebb5,
  'debug-stop': 0xead7,
  diff: 0xeae1,
  discard: 0xeae2,
  edit: 0xea73,
  error: 0xea87,
  fold: 0xeaf5,
  'list-flat': 0xeb84,
  'list-unordered': 0xeb17,
  loading: 0xeb19,
  'pass-filled': 0xebb3,
  pinned: 0xeba0,
  play: 0xeb2c,
  remove: 0xeb3b,
  'screen-full': 0xeb4c,
  sparkle: 0xec10,
  'star-full': 0xeb59,
  sync: 0xea77,
  terminal: 0xea85,
  warning: 0xea6c,
  watch: 0xeb7c,
} as const;

export type Codicon = keyof typeof GLYPHS;

/** The @font-face and one class per glyph; `font` is the font's webview URI. */
export function codiconCss(font: string | undefined): string {
  const face = font
    ? `@font-face { font-family: 'codicon'; font-display: block; src: url('${font.replace(/'/g, '%27')}') format('truetype'); }`
    : '';
  const glyphs = Object.entries(GLYPHS)
    .map(([n, cp]) => `.codicon-${n}::before { content: '\\${cp.toString(16)}'; }`)
    .join('\n');
  return `${face}
.codicon { font: normal normal normal 16px/1 codicon; display: inline-block; text-decoration: none;
  text-rendering: auto; text-align: center; -webkit-font-smoothing: antialiased; user-select: none; vertical-align: text-bottom; }
.codicon.small { font-size: 14px; }
${glyphs}`;
}

/** A codicon glyph (decorative: the element that holds it carries the label). */
export function icon(name: Codicon, extraClass = ''): HTMLSpanElement {
  const s = document.createElement('span');
  s.className = `codicon codicon-${name}${extraClass ? ` ${extraClass}` : ''}`;
  s.setAttribute('aria-hidden', 'true');
  return s;
}

/** Adds the codicon styles to the document (the font URI from #app's data-codicon-font). */
export function installCodicons(app: HTMLElement): void {
  const style = document.createElement('style');
  style.textContent = codiconCss(app.dataset.codiconFont);
  document.head.append(style);
}
