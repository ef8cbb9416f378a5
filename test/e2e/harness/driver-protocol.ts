/**
 * The channel between a mocha suite (inside the VS Code extension host) and the Playwright side
 * (the node test driving chromium). The suite cannot touch the browser, so it asks: it logs one
 * line `PREFIX {json request}`; the extension host's console reaches the page console, where the
 * driver reads it, acts on the page and writes the reply to `<replyDir>/<id>.json`.
 */

export const REQUEST_PREFIX = '@@klong-e2e@@';
/** Prefix of mocha's reporter lines, so the driver can tell them from workbench logs. */
export const OUTPUT_PREFIX = '@@klong-out@@';

/**
 * Where an operation happens: `workbench` is the VS Code page itself; any other name is a webview
 * whose content has an element `[data-klong-view="<name>"]` (e.g. `progress`, `paper`).
 */
export type ViewName = string;

export type DriverRequest =
  | { op: 'screenshot'; name: string; view?: ViewName }
  | { op: 'click'; view: ViewName; selector: string; button?: 'left' | 'right' }
  | { op: 'press'; view: ViewName; selector: string; key: string }
  | { op: 'fill'; view: ViewName; selector: string; value: string }
  | { op: 'text'; view: ViewName; selector: string }
  | { op: 'count'; view: ViewName; selector: string }
  | {
      op: 'waitFor';
      view: ViewName;
      selector: string;
      state?: 'attached' | 'visible' | 'hidden';
      text?: string;
    }
  | { op: 'evaluate'; view: ViewName; expression: string };

export type DriverReply =
  | { id: number; ok: true; value?: unknown }
  | { id: number; ok: false; error: string };

/** Environment the harness gives the extension host (and so the suites). */
export const ENV = {
  replyDir: 'KLONG_E2E_REPLY_DIR',
  artifacts: 'KLONG_E2E_ARTIFACTS',
  repoRoot: 'KLONG_E2E_REPO_ROOT',
  grep: 'KLONG_E2E_GREP',
} as const;
