/** Environment test/e2e/engine.test.ts gives the extension host (a session an engine process drives). */
export const ENGINE_ENV = {
  /** The session started with `klong reproduce --detach` before the window opened. */
  sessionId: 'KLONG_E2E_ENGINE_SESSION',
  /** Sent from the progress view's message box, then with KLong: Message the agent. */
  messageView: 'KLONG_E2E_ENGINE_MSG_VIEW',
  messageCommand: 'KLONG_E2E_ENGINE_MSG_CMD',
} as const;
