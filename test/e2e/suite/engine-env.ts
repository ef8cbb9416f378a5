/** Environment test/e2e/engine.test.ts gives the extension host (a session an engine process drives). */
export const ENGINE_ENV = {
  /** The session started with `klong reproduce --detach` before the window opened. */
  sessionId: 'KLONG_E2E_ENGINE_SESSION',
  /** Sent from the progress view's message box, then with KLong: Message the agent. */
  messageView: 'KLONG_E2E_ENGINE_MSG_VIEW',
  messageCommand: 'KLONG_E2E_ENGINE_MSG_CMD',
} as const;

/** Environment of test/e2e/engine-survives.test.ts (a session started from VS Code, the server killed). */
export const SURVIVE_ENV = {
  paper: 'KLONG_E2E_SURVIVE_PAPER',
  /** JSON {phase, sessionId?, step?}: 1 before the kill, 2 after the restart. */
  phaseFile: 'KLONG_E2E_SURVIVE_PHASE',
} as const;
