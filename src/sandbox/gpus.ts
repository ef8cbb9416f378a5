/**
 * GPUs for the agent's container: the klong.docker.gpus setting / `--gpus` (Docker's own syntax), and
 * what a devcontainer.json asks for (hostRequirements.gpu, runArgs `--gpus`), as Docker device requests.
 */
import { SandboxError } from './errors';

export type GpuRequest =
  | { kind: 'none' }
  | { kind: 'all' }
  | { kind: 'count'; count: number }
  | { kind: 'devices'; ids: string[] };

/** What the Engine API takes in HostConfig.DeviceRequests (as `docker run --gpus` sends it). */
export interface DeviceRequest {
  Driver: string;
  Count: number;
  DeviceIDs?: string[];
  Capabilities: string[][];
  Options?: Record<string, string>;
}

export const NO_GPUS: GpuRequest = { kind: 'none' };

/** A GPU index or a GPU-/MIG- UUID: what nvidia-container-toolkit accepts as a device id. */
const DEVICE_ID = /^(\d+|(GPU|MIG)-[A-Za-z0-9][A-Za-z0-9:._/-]*)$/i;

function invalid(value: unknown, source: string): SandboxError {
  return new SandboxError(
    'GPU_SETTING_INVALID',
    `Not a GPU choice: ${JSON.stringify(value)} (${source}).`,
    'Use none, all, a number of GPUs such as 2, or device ids such as 0,1 (or GPU UUIDs, e.g. GPU-3a1b...), as with `docker run --gpus`.',
  );
}

/**
 * Parses a GPU choice: none, all, a count ("2", 2, "count=2"), or device ids ("0,1", "device=0,1",
 * "GPU-…"). `source` names where the value came from, for the error.
 */
export function parseGpus(value: unknown, source = 'klong.docker.gpus'): GpuRequest {
  if (value === undefined || value === null) return NO_GPUS;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw invalid(value, source);
    return value === 0 ? NO_GPUS : { kind: 'count', count: value };
  }
  if (typeof value !== 'string') throw invalid(value, source);
  // runArgs may carry Docker's quoting: --gpus '"device=0,1"'.
  const v = value.trim().replace(/^(['"])(.*)\1$/, '$2');
  const lower = v.toLowerCase();
  if (lower === '' || lower === 'none' || lower === '0') return NO_GPUS;
  if (lower === 'all') return { kind: 'all' };
  if (/^\d+$/.test(v)) return { kind: 'count', count: Number(v) };
  const count = /^count=(\d+|all)$/i.exec(v);
  if (count) {
    if (count[1]!.toLowerCase() === 'all') return { kind: 'all' };
    if (Number(count[1]) > 0) return { kind: 'count', count: Number(count[1]) };
    throw invalid(value, source);
  }
  const dev = /^device=(.+)$/i.exec(v);
  if (dev) return devices(dev[1]!, value, source);
  return devices(v, value, source);
}

function devices(list: string, value: unknown, source: string): GpuRequest {
  const ids = list.split(',').map((s) => s.trim());
  if (ids.length === 0 || ids.some((id) => !DEVICE_ID.test(id)) || new Set(ids).size !== ids.length)
    throw invalid(value, source);
  return { kind: 'devices', ids };
}

/** The request as Docker's `--gpus` value: all, 2, device=0,1 (or none). */
export function describeGpus(g: GpuRequest): string {
  switch (g.kind) {
    case 'none':
      return 'none';
    case 'all':
      return 'all';
    case 'count':
      return String(g.count);
    case 'devices':
      return `device=${g.ids.join(',')}`;
  }
}

/** HostConfig.DeviceRequests for a request: exactly what `docker run --gpus` sends. */
export function deviceRequests(g: GpuRequest): DeviceRequest[] {
  switch (g.kind) {
    case 'none':
      return [];
    case 'all':
      return [{ Driver: '', Count: -1, Capabilities: [['gpu']] }];
    case 'count':
      return [{ Driver: '', Count: g.count, Capabilities: [['gpu']] }];
    case 'devices':
      return [{ Driver: '', Count: 0, DeviceIDs: g.ids, Capabilities: [['gpu']] }];
  }
}

/** `--gpus X` / `--gpus=X` in a devcontainer.json's runArgs (the last one wins, as with docker run). */
export function gpusFromRunArgs(
  runArgs: unknown,
  source = 'runArgs in devcontainer.json',
): GpuRequest | undefined {
  if (!Array.isArray(runArgs)) return undefined;
  let found: GpuRequest | undefined;
  for (let i = 0; i < runArgs.length; i++) {
    const a = runArgs[i];
    if (typeof a !== 'string') continue;
    if (a === '--gpus') {
      found = parseGpus(runArgs[i + 1], source);
      i++;
    } else if (a.startsWith('--gpus=')) found = parseGpus(a.slice('--gpus='.length), source);
  }
  return found;
}

/** runArgs other than `--gpus` and its value (those KLong does not apply). */
export function otherRunArgs(runArgs: unknown): unknown[] {
  if (!Array.isArray(runArgs)) return [];
  const rest: unknown[] = [];
  for (let i = 0; i < runArgs.length; i++) {
    if (runArgs[i] === '--gpus') i++;
    else if (!(typeof runArgs[i] === 'string' && (runArgs[i] as string).startsWith('--gpus=')))
      rest.push(runArgs[i]);
  }
  return rest;
}
