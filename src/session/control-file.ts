/**
 * `control.json` in a session folder: where the engine that drives the session serves its control
 * channel (engine/control.ts). Here, below the engine, so that the Sessions view can tell a session
 * an engine serves without loading the engine bundle.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const CONTROL_FILE = 'control.json';

/** What `control.json` says: where the engine listens, and which process it is. */
export interface ControlInfo {
  pid: number;
  address: string;
  startedAt: number;
}

export function readControlInfo(dir: string): ControlInfo | undefined {
  const file = join(dir, CONTROL_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ControlInfo;
  } catch {
    return undefined; // torn by a crash mid-write: treat as not running
  }
}
