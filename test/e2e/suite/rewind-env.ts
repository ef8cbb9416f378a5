/** Environment the rewind run (test/e2e/rewind.test.ts) gives the extension host. */
export const REWIND_ENV = {
  modelUrl: 'KLONG_E2E_REWIND_MODEL_URL',
  paper: 'KLONG_E2E_REWIND_PAPER',
} as const;
