/**
 * API keys belong to an endpoint origin (scheme, host, port of `klong.model.baseUrl`): a key stored
 * for api.openai.com is never sent to another server without the user saying so. Pure logic; the
 * secret storage and the prompts are in src/ui/model-endpoint.ts.
 */

/** The secret that held the one key of earlier versions (moved to the configured origin on first use). */
export const LEGACY_KEY_SECRET = 'klong.apiKey';

/** `https://api.openai.com` for `https://API.openai.com:443/v1/`; throws a readable error for a bad URL. */
export function endpointOrigin(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl.trim());
  } catch {
    throw new Error(
      `klong.model.baseUrl is not a URL: "${baseUrl}". Use the endpoint's base URL, e.g. https://api.openai.com/v1.`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error(`klong.model.baseUrl must start with https:// or http://, not "${url.protocol}".`);
  // URL lower-cases the host and drops a default port; the path, user info and query are not part of it.
  return url.origin;
}

/** Name of the secret holding the key for `origin`. */
export function keySecretName(origin: string): string {
  return `${LEGACY_KEY_SECRET}:${origin}`;
}

/** What to do for a request to `origin`. */
export type KeyPlan =
  /** A key stored for this origin, or KLONG_API_KEY from the environment VS Code was started in. */
  | { kind: 'use'; key: string; from: 'stored' | 'env' }
  /** No key for this origin, but one for others: ask before sending one of those here. */
  | { kind: 'ask-other'; others: string[] }
  /** Nothing known: ask for a key (empty is fine for local servers). */
  | { kind: 'ask' };

export function planApiKey(o: {
  origin: string;
  /** The key stored for `origin`, if any ('' is a stored "no key"). */
  stored: string | undefined;
  /** KLONG_API_KEY of the environment: the user's own choice for whatever endpoint is configured. */
  env: string | undefined;
  /** Origins that have a stored key. */
  originsWithKeys: readonly string[];
}): KeyPlan {
  if (o.stored !== undefined) return { kind: 'use', key: o.stored, from: 'stored' };
  if (o.env !== undefined) return { kind: 'use', key: o.env, from: 'env' };
  const others = o.originsWithKeys.filter((x) => x !== o.origin);
  return others.length ? { kind: 'ask-other', others } : { kind: 'ask' };
}

/**
 * The one-time move of an earlier version's single key: it becomes the key of the origin configured
 * now (the endpoint it was used with), unless that origin already has one. The old secret goes either way.
 */
export function migrateLegacyKey(
  legacy: string | undefined,
  origin: string,
  storedForOrigin: string | undefined,
): { store?: { origin: string; key: string }; removeLegacy: boolean } {
  if (legacy === undefined) return { removeLegacy: false };
  return storedForOrigin === undefined
    ? { store: { origin, key: legacy }, removeLegacy: true }
    : { removeLegacy: true };
}

/** The origins list kept beside the secrets (secret storage cannot list its keys), with `origin` added or removed. */
export function withOrigin(list: readonly string[], origin: string, present: boolean): string[] {
  const rest = list.filter((x) => x !== origin);
  return present ? [...rest, origin].sort() : rest;
}
