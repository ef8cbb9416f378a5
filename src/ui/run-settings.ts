/** The klong.* settings (and the API key) as the engine's RunSettings for a reproduction. */
import * as vscode from 'vscode';
import { parseDuration } from '../agent/budget';
import { APPROVAL_MODES, type ApprovalMode } from '../edits';
import type { RunSettings } from '../engine/reproduction';
import { validPrices } from '../llm/prices';
// The module itself, not the layer's index: the UI bundle must not pull in dockerode.
import { type GpuRequest, parseGpus } from '../sandbox/gpus';
import { notifyError } from './notify';

/**
 * A machine-scoped setting (package.json `"scope": "machine"`): the user's value or the default, never
 * a workspace's (VS Code already ignores those; this holds even where the scope is not enforced).
 */
export function machineSetting<T>(c: vscode.WorkspaceConfiguration, key: string, fallback: T): T {
  const i = c.inspect<T>(key);
  return i?.globalValue ?? i?.defaultValue ?? fallback;
}

/** klong.docker.host (machine-scoped), undefined for the local default engine. */
export function dockerHostSetting(c = vscode.workspace.getConfiguration('klong')): string | undefined {
  return machineSetting(c, 'docker.host', '') || undefined;
}

/** The endpoint settings (klong.model.*) as the Reproduce command and Test connection read them. */
export function endpointSettings(c = vscode.workspace.getConfiguration('klong')): {
  baseUrl: string;
  name: string;
} {
  return {
    // Where the key goes: a cloned repository's .vscode/settings.json must not choose it.
    baseUrl: machineSetting(c, 'model.baseUrl', 'https://api.openai.com/v1'),
    name: c.get<string>('model.name', 'gpt-4.1'),
  };
}

/** Undefined when the key prompt was dismissed or a setting is invalid (the user was told which). */
export async function runSettings(
  stateDir: string,
  apiKeyOf: () => Promise<string | undefined>,
): Promise<RunSettings | undefined> {
  const c = vscode.workspace.getConfiguration('klong');
  const apiKey = await apiKeyOf();
  if (apiKey === undefined) return undefined;
  let budgetMs: number;
  try {
    budgetMs = parseDuration(c.get<string>('session.timeBudget', '12h'));
  } catch (err) {
    void notifyError(`${(err as Error).message} (setting klong.session.timeBudget)`, {
      settings: 'klong.session',
    });
    return undefined;
  }
  const priceSetting = c.get<unknown>('model.pricePerMillionTokens', null);
  const prices = validPrices(priceSetting);
  if (priceSetting !== null && priceSetting !== undefined && !prices) {
    void notifyError(
      'klong.model.pricePerMillionTokens must be {"input": N, "cachedInput": N, "output": N} in USD per million tokens, or null for the list price.',
      { settings: 'klong.model' },
    );
    return undefined;
  }
  let gpus: GpuRequest;
  try {
    gpus = parseGpus(c.get<string>('docker.gpus', 'none'), 'setting klong.docker.gpus');
  } catch (err) {
    void notifyError(`${(err as Error).message} ${(err as { hint?: string }).hint ?? ''}`, {
      settings: 'klong.docker.gpus',
    });
    return undefined;
  }
  const mode = c.get<string>('edits.approvalMode', 'review');
  const spendCap = c.get<number>('session.spendCapUsd', 50);
  const env = process.env;
  return {
    stateDir,
    model: {
      ...endpointSettings(c),
      apiKey,
      contextLimit: c.get<number>('model.contextLimit', 128_000),
      ...(prices ? { prices } : {}),
    },
    budgetMs,
    ...(spendCap > 0 ? { spendCapUsd: spendCap } : {}),
    approval: (APPROVAL_MODES as string[]).includes(mode) ? (mode as ApprovalMode) : 'review',
    network: c.get<string>('docker.network', 'bridge'),
    defaultImage: c.get<string>('docker.defaultImage', 'klong/python:bookworm'),
    ...(gpus.kind !== 'none' ? { gpus } : {}),
    ...(dockerHostSetting(c) ? { dockerHost: dockerHostSetting(c) } : {}),
    limits: {
      memory: c.get<string>('docker.memoryLimit', '8g'),
      cpus: c.get<number>('docker.cpus', 2),
      pids: c.get<number>('docker.pidsLimit', 4096),
    },
    // A new session keeps these in its run.json; a resume keeps the session's own.
    earlyEnd: {
      minBudgetUse: c.get<number>('agent.minBudgetUse', 0.5),
      target: c.get<number>('agent.earlyEndTarget', 1),
      checks: c.get<number>('agent.earlyEndChecks', 3),
    },
    // Tests label their containers so they can clean up after themselves.
    ...(env.KLONG_TEST_LABEL ? { labels: { [env.KLONG_TEST_LABEL]: '1' } } : {}),
  };
}
