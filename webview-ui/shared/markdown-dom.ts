/** Builds DOM nodes from parseMarkdown's tree: createElement + textContent, never innerHTML. */
import { type MdNode, parseMarkdown } from './markdown';

function build(nodes: MdNode[], into: Node): void {
  for (const n of nodes) {
    if (typeof n === 'string') {
      into.appendChild(document.createTextNode(n));
      continue;
    }
    const e = document.createElement(n.tag);
    for (const [k, v] of Object.entries(n.attrs)) e.setAttribute(k, v);
    build(n.children, e);
    into.appendChild(e);
  }
}

/** A `.md` element with the rendered Markdown. Links do nothing here: see `onLink`. */
export function renderMarkdown(source: string, className = 'md'): HTMLElement {
  const box = document.createElement('div');
  box.className = className;
  build(parseMarkdown(source), box);
  return box;
}

/**
 * Sends every link click under `root` to `open` (the host opens web links; fragments scroll here)
 * instead of letting the webview navigate.
 */
export function onLink(root: HTMLElement, open: (href: string) => void): void {
  root.addEventListener('click', (ev) => {
    const a = (ev.target as Element | null)?.closest?.('a[href]');
    if (!a || !root.contains(a)) return;
    // VS Code's own click handler (on the webview's window) would open the link itself, past our checks.
    ev.preventDefault();
    ev.stopPropagation();
    open(a.getAttribute('href') ?? '');
  });
}
