/** Checkpoint and resume: event log, snapshots, locks, the session store. No `vscode` here. */

export { CONTROL_FILE, type ControlInfo, readControlInfo } from './control-file';
export { type Durability, EventLog, type EventLogOptions } from './event-log';
export { readFrom } from './fsutil';
export {
  createSession,
  LiveSession,
  type LiveSessionOptions,
  type OpenedSession,
  type OpenOptions,
  openSession,
  resumeSession,
  type SessionInit,
} from './live-session';
export {
  inspectLock,
  type LockOptions,
  type LockOwner,
  type LockState,
  SessionLock,
  SessionLockedError,
} from './lock';
export { eventMigrations, migrateEventsFile, migrateSnapshot, snapshotMigrations } from './migrations';
export { EVENTS_SCHEMA_VERSION, FILES, newSessionId, SNAPSHOT_SCHEMA_VERSION } from './schema';
export {
  loadSnapshot,
  readSnapshotFile,
  readSnapshots,
  type Snapshot,
  type SnapshotInput,
  type SnapshotMeta,
  writeSnapshot,
} from './snapshot';
export { moveSession, type SessionListEntry, SessionStore, type SessionStoreOptions } from './store';
export {
  addUsage,
  emptySummary,
  foldSummary,
  noTokens,
  type SessionSummary,
  type TokenTotals,
} from './summary';
