/** Environment the acceptance run (test/e2e/reproduce.test.ts) gives the extension host. */
export const REPRODUCE_ENV = {
  modelUrl: 'KLONG_E2E_MODEL_URL',
  paper: 'KLONG_E2E_PAPER',
  /** JSON {phase, sessionId}: which half of the run this extension host is in (a reload splits it). */
  phaseFile: 'KLONG_E2E_PHASE_FILE',
} as const;
