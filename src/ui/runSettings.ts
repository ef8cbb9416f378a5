/** The klong.* settings (and the API key) as the engine's RunSettings for a reproduction. */
import * as vscode from 'vscode';
import { parseDuration } from '../agent/budget';
import { APPROVAL_MODES, type ApprovalMode } from '../edits';
import type { RunSettings } from '../engine/reproduction';
import { validPrices } from '../llm/prices';
import { notifyError } from './notify';

/** The endpoint settings (klong.model.*) as the Reproduce command and Test connection read them. */
export function endpointSettings(c = vscode.workspace.getConfiguration('klong')): {
  baseUrl: string;
  name: string;
} {
  return {
    baseUrl: c.get<string>('model.baseUrl', 'https://api.openai.com/v1'),
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
    ...(c.get<string>('docker.host') ? { dockerHost: c.get<string>('docker.host') } : {}),
    limits: {
      memory: c.get<string>('docker.memoryLimit', '8g'),
      cpus: c.get<number>('docker.cpus', 2),
      pids: c.get<number>('docker.pidsLimit', 4096),
    },
    // Tests label their containers so they can clean up after themselves.
    ...(env.KLONG_TEST_LABEL ? { labels: { [env.KLONG_TEST_LABEL]: '1' } } : {}),
  };
}
