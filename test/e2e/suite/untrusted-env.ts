/** Environment test/e2e/untrusted.test.ts gives the extension host. */
export const UNTRUSTED_ENV = {
  /** Set: the window is on a folder the user has not trusted (Workspace Trust on). */
  on: 'KLONG_E2E_UNTRUSTED',
} as const;
