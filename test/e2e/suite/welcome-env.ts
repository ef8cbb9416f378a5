/** Environment test/e2e/welcome.test.ts gives the extension host. */
export const WELCOME_ENV = {
  /** Id of a session whose container the test made (label klong.session=<id>). */
  session: 'KLONG_E2E_WELCOME_SESSION',
  /** An image present on the engine (the sandbox step's check). */
  image: 'KLONG_E2E_WELCOME_IMAGE',
} as const;
