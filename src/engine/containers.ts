/**
 * Containers are disposable: the host keeps a session's history (history.git) and its pending
 * edits, so a container whose session is not running can go. `klong sessions --prune` and
 * "KLong: Clean up containers" remove them; a running session's container (its lock is held) stays.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  LABEL_SESSION,
  LABEL_STATE,
  listSessionContainers,
  removeContainer,
  removeSandbox,
  stateLabel,
} from '../sandbox';
import { FILES, inspectLock } from '../session';

export interface PruneOptions {
  /** The state folder whose sessions' containers are pruned (no other folder's). */
  stateDir: string;
  dockerHost?: string;
  /** Only containers carrying all of these labels (tests scope a prune with them). */
  labels?: Record<string, string>;
}

export interface PruneResult {
  removed: { id: string; name: string; sessionId: string }[];
  /** Containers of this state folder left alone, and why. */
  kept: { id: string; name: string; sessionId: string; why: string }[];
}

/**
 * Removes the containers of this state folder's sessions that are not running. A container is this
 * folder's when its state label says so, or (made before that label existed) when it has no state
 * label and its session is in this folder, or its session was moved here from the folder it names;
 * containers of other folders are never touched.
 */
export async function pruneContainers(o: PruneOptions): Promise<PruneResult> {
  const mine = stateLabel(o.stateDir)[LABEL_STATE];
  const out: PruneResult = { removed: [], kept: [] };
  for (const c of await listSessionContainers(o.dockerHost)) {
    if (o.labels && Object.entries(o.labels).some(([k, v]) => c.labels[k] !== v)) continue;
    const sessionId = c.labels[LABEL_SESSION] ?? '';
    const dir = join(o.stateDir, sessionId);
    const state = c.labels[LABEL_STATE];
    if (state ? state !== mine && state !== formerState(dir) : !sessionId || !existsSync(dir)) continue;
    if (existsSync(dir) && inspectLock(dir).state === 'held') {
      out.kept.push({ id: c.id, name: c.name, sessionId, why: 'its session is running' });
      continue;
    }
    await removeContainer(c.id, o.dockerHost);
    out.removed.push({ id: c.id, name: c.name, sessionId });
  }
  return out;
}

/** The state label of the folder a session was moved from (its container still carries it). */
function formerState(dir: string): string | undefined {
  try {
    const from = readFileSync(join(dir, FILES.movedFrom), 'utf8').trim();
    return from ? stateLabel(from)[LABEL_STATE] : undefined;
  } catch {
    return undefined;
  }
}

/** The session's container(s), removed (delete, discard, replace); quiet when Docker is not there. */
export async function removeSessionContainer(sessionId: string, dockerHost?: string): Promise<number> {
  return removeSandbox(sessionId, dockerHost);
}
