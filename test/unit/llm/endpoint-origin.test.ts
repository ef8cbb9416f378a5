/** API keys per endpoint origin: what counts as the same server, which key is used, the one-time migration. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  endpointOrigin,
  keySecretName,
  LEGACY_KEY_SECRET,
  migrateLegacyKey,
  planApiKey,
  withOrigin,
} from '../../../src/llm/endpoint-origin';

describe('endpointOrigin', () => {
  const same: [string, string][] = [
    ['https://api.openai.com/v1', 'https://api.openai.com'],
    ['https://API.OpenAI.com/v1/', 'https://api.openai.com'],
    ['https://api.openai.com:443/v1', 'https://api.openai.com'],
    ['  https://api.openai.com/v1?x=1#y ', 'https://api.openai.com'],
    ['https://user:pw@api.openai.com/v1', 'https://api.openai.com'],
    ['http://localhost:11434/v1', 'http://localhost:11434'],
    ['http://127.0.0.1:8000/v1', 'http://127.0.0.1:8000'],
    ['http://[::1]:8000/v1', 'http://[::1]:8000'],
    ['http://example.com:80/v1', 'http://example.com'],
  ];
  for (const [url, origin] of same)
    test(`${url} → ${origin}`, () => assert.equal(endpointOrigin(url), origin));

  test('scheme, host and port each make another origin', () => {
    const o = endpointOrigin('https://api.openai.com/v1');
    for (const other of [
      'http://api.openai.com/v1',
      'https://api.openai.com:8443/v1',
      'https://api.openai.com.evil.example/v1',
      'https://evil.example/api.openai.com/v1',
      'https://openrouter.ai/api/v1',
    ])
      assert.notEqual(endpointOrigin(other), o, other);
  });

  test('a bad URL says what to set', () => {
    assert.throws(
      () => endpointOrigin('api.openai.com/v1'),
      /klong\.model\.baseUrl is not a URL.*https:\/\/api\.openai\.com\/v1/,
    );
    assert.throws(() => endpointOrigin('file:///etc/passwd'), /must start with https:\/\/ or http:\/\//);
    assert.throws(() => endpointOrigin(''), /not a URL/);
  });

  test('each origin has its own secret, apart from the old single key', () => {
    const a = keySecretName('https://api.openai.com');
    assert.notEqual(a, keySecretName('http://localhost:11434'));
    assert.notEqual(a, LEGACY_KEY_SECRET);
  });
});

describe('planApiKey', () => {
  const origin = 'https://openrouter.ai';
  test('the key stored for the origin wins, even an empty one (a local server without key)', () => {
    assert.deepEqual(planApiKey({ origin, stored: 'sk-or', env: 'sk-env', originsWithKeys: [origin] }), {
      kind: 'use',
      key: 'sk-or',
      from: 'stored',
    });
    assert.deepEqual(planApiKey({ origin, stored: '', env: undefined, originsWithKeys: [origin] }), {
      kind: 'use',
      key: '',
      from: 'stored',
    });
  });
  test('then KLONG_API_KEY of the environment', () => {
    assert.deepEqual(
      planApiKey({ origin, stored: undefined, env: 'sk-env', originsWithKeys: ['https://api.openai.com'] }),
      { kind: 'use', key: 'sk-env', from: 'env' },
    );
  });
  test("another origin's key is never used without asking", () => {
    assert.deepEqual(
      planApiKey({
        origin,
        stored: undefined,
        env: undefined,
        originsWithKeys: ['https://api.openai.com', origin, 'http://localhost:11434'],
      }),
      { kind: 'ask-other', others: ['https://api.openai.com', 'http://localhost:11434'] },
    );
    assert.deepEqual(planApiKey({ origin, stored: undefined, env: undefined, originsWithKeys: [] }), {
      kind: 'ask',
    });
    // The list says the origin has a key but the secret is gone (cleared elsewhere): ask.
    assert.deepEqual(planApiKey({ origin, stored: undefined, env: undefined, originsWithKeys: [origin] }), {
      kind: 'ask',
    });
  });
});

describe('migrateLegacyKey', () => {
  test('the old single key becomes the key of the origin configured now', () => {
    assert.deepEqual(migrateLegacyKey('sk-old', 'https://api.openai.com', undefined), {
      store: { origin: 'https://api.openai.com', key: 'sk-old' },
      removeLegacy: true,
    });
  });
  test('an origin that already has a key keeps it; the old secret goes anyway', () => {
    assert.deepEqual(migrateLegacyKey('sk-old', 'https://api.openai.com', 'sk-new'), { removeLegacy: true });
  });
  test('nothing to move', () => {
    assert.deepEqual(migrateLegacyKey(undefined, 'https://api.openai.com', undefined), {
      removeLegacy: false,
    });
  });
});

test('withOrigin keeps a sorted list without duplicates', () => {
  let l = withOrigin([], 'https://b', true);
  l = withOrigin(l, 'http://a', true);
  l = withOrigin(l, 'https://b', true);
  assert.deepEqual(l, ['http://a', 'https://b']);
  assert.deepEqual(withOrigin(l, 'http://a', false), ['https://b']);
});
