/** Option parsing shared by the commands: node's parseArgs, with the command's usage on a bad option. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { parseDuration } from '../agent/budget';
import { parsePrices } from '../llm/prices';
import type { Prices } from '../llm/types';
import { type GpuRequest, type Limits, parseGpus, parseSize, type SandboxError } from '../sandbox';
import { CliError } from './reproduce';

/** Where sessions are kept unless --state-dir says otherwise. */
export function defaultStateDir(): string {
  return join(homedir(), '.klong', 'sessions');
}

/** A command's option table, as node's parseArgs takes it. */
export type CommandOptions = NonNullable<ParseArgsConfig['options']>;

export function parseCommandArgs<O extends CommandOptions>(
  command: string,
  usage: string,
  args: string[],
  options: O,
) {
  // `--budget -5m`: a value that starts with a dash and a digit is the option's (negative) value, so
  // that it gets the option's own error instead of parseArgs' "argument is ambiguous".
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    if (name && options[name]?.type === 'string' && next !== undefined && /^-[\d.]/.test(next)) {
      joined.push(`${a}=${next}`);
      i++;
    } else joined.push(a);
  }
  try {
    return parseArgs({ args: joined, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError(`klong ${command}: ${err instanceof Error ? err.message : String(err)}\n\n${usage}`);
  }
}

/** A numeric option: undefined when absent; positive unless `min` is given. */
export function numberOption(
  name: string,
  v: string | undefined,
  { integer = false, min }: { integer?: boolean; min?: number } = {},
): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  const inRange = min === undefined ? n > 0 : n >= min;
  if (Number.isFinite(n) && inRange && (!integer || Number.isInteger(n))) return n;
  const kind = `${integer ? 'whole ' : ''}number`;
  throw new CliError(
    `--${name} must be ${min === undefined ? `a positive ${kind}` : `a ${kind} ≥ ${min}`}, got "${v}".`,
  );
}

/** A time budget such as 12h, 90m or 1h30m: undefined when absent, refused when not above zero. */
export function durationOption(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  let ms: number | undefined;
  try {
    ms = parseDuration(v);
  } catch {
    ms = undefined;
  }
  if (ms !== undefined && ms > 0) return ms;
  throw new CliError(
    `--${name} must be a time above zero with its unit, e.g. 12h, 90m or 1h30m; got "${v}".`,
  );
}

/** The model API key from the environment (never a command-line option: it would show in `ps`). */
export function apiKeyFrom(command: string, env: NodeJS.ProcessEnv): string {
  const key = env.KLONG_API_KEY || env.OPENAI_API_KEY;
  if (!key)
    throw new CliError(
      `klong ${command}: no API key. Set KLONG_API_KEY or OPENAI_API_KEY (for a local server without keys, any value works).`,
    );
  return key;
}

export function networkOption(v: string | undefined): 'bridge' | 'none' {
  const network = v ?? 'bridge';
  if (network !== 'bridge' && network !== 'none')
    throw new CliError(`--network must be bridge or none, got "${network}".`);
  return network;
}

/** `--gpus`: none, all, a count or device ids, as with `docker run --gpus`. */
export function gpusOption(v: string | undefined): GpuRequest | undefined {
  if (v === undefined) return undefined;
  try {
    return parseGpus(v, '--gpus');
  } catch (err) {
    throw new CliError(`${(err as SandboxError).message} ${(err as SandboxError).hint}`);
  }
}

/** Repeated `--label K=V` as container labels. */
export function labelOptions(list: string[] | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const l of list ?? []) {
    const i = l.indexOf('=');
    if (i <= 0) throw new CliError(`--label must be KEY=VALUE, got "${l}".`);
    labels[l.slice(0, i)] = l.slice(i + 1);
  }
  return labels;
}

/** Container limits (the same defaults as the extension's klong.docker.* settings). */
export const LIMIT_OPTIONS = {
  memory: { type: 'string' },
  cpus: { type: 'string' },
  pids: { type: 'string' },
} as const;

export const LIMITS_USAGE = `  --memory SIZE          Container memory limit, e.g. 8g, 512m (default 8g)
  --cpus N               Container CPU limit (default 2)
  --pids N               Container process limit (default 4096)`;

export function limitOptions(v: { memory?: string; cpus?: string; pids?: string }): Limits {
  const memory = v.memory ?? '8g';
  try {
    if (!parseSize(memory)) throw new Error(`Not a size: ${memory}`);
  } catch {
    throw new CliError(`--memory must be a size such as 8g or 512m, got "${memory}".`);
  }
  return {
    memory,
    cpus: numberOption('cpus', v.cpus) ?? 2,
    pids: numberOption('pids', v.pids, { integer: true }) ?? 4096,
  };
}

export const PRICE_USAGE = `  --price IN,CACHED,OUT  USD per million tokens: input, cached input, output (default: the model's
                         list price from KLong's table; unknown models count as $0)`;

/** `--price in,cached,out`: undefined when absent (the table's price for the model is used). */
export function priceOption(v: string | undefined): Prices | undefined {
  if (v === undefined) return undefined;
  try {
    return parsePrices(v);
  } catch (err) {
    throw new CliError(`--price: ${(err as Error).message}`);
  }
}
