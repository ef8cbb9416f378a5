/** The allow-listed environment of child processes: what passes, what never does, and `${localEnv:…}`. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import {
  childEnv,
  localEnvNames,
  looksSecret,
  spawnChild,
  withholdLocalEnv,
} from '../../../src/sandbox/child-env';

const KEY = 'sk-proj-UNIQUE-marker-0123456789';

const HOST: NodeJS.ProcessEnv = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/home/ada',
  USER: 'ada',
  LANG: 'en_GB.UTF-8',
  LC_ALL: 'en_GB.UTF-8',
  TMPDIR: '/tmp/ada',
  DOCKER_HOST: 'unix:///run/user/1000/docker.sock',
  DOCKER_CONFIG: '/home/ada/.docker',
  DOCKER_CERT_PATH: '/home/ada/.docker/certs',
  HTTP_PROXY: 'http://proxy:3128',
  https_proxy: 'http://proxy:3128',
  no_proxy: 'localhost,127.0.0.1',
  SSH_AUTH_SOCK: '/tmp/ssh-agent.sock',
  XDG_RUNTIME_DIR: '/run/user/1000',
  KLONG_API_KEY: KEY,
  OPENAI_API_KEY: KEY,
  ANTHROPIC_API_KEY: 'sk-ant-other',
  GITHUB_TOKEN: 'ghp_xxx',
  AWS_SECRET_ACCESS_KEY: 'aws',
  AWS_SESSION_TOKEN: 'aws-session',
  DB_PASSWORD: 'hunter2',
  MYSQL_PWD: 'hunter2',
  NPM_AUTH: 'x',
  GOOGLE_APPLICATION_CREDENTIALS: '/home/ada/gcp.json',
  DOCKER_PASSWORD: 'hunter2',
  DOCKER_AUTH_CONFIG: '{"auths":{}}',
  DEVCONTAINERS_OCI_AUTH: 'ghcr.io|u|p',
  HF_TOKEN: 'hf_xxx',
  WANDB_API_KEY: 'w',
  // Not a secret's name, but holds the model key: left out by its value.
  MY_SETTING: `prefix-${KEY}`,
  // Harmless but not on the list.
  EDITOR: 'vim',
  PYTHONPATH: '/opt/lib',
};

describe('child process environment', () => {
  test('allow-listed variables pass; keys, tokens, passwords and credentials never do', () => {
    const { env, withheld } = childEnv({ env: HOST, secrets: [KEY] });
    assert.deepEqual(Object.keys(env).sort(), [
      'DOCKER_CERT_PATH',
      'DOCKER_CONFIG',
      'DOCKER_HOST',
      'HOME',
      'HTTP_PROXY',
      'LANG',
      'LC_ALL',
      'PATH',
      'TMPDIR',
      'USER',
      'XDG_RUNTIME_DIR',
      'https_proxy',
      'no_proxy',
    ]);
    for (const name of [
      'KLONG_API_KEY',
      'OPENAI_API_KEY',
      'GITHUB_TOKEN',
      'DOCKER_PASSWORD',
      'DOCKER_AUTH_CONFIG',
      'MY_SETTING',
      'SSH_AUTH_SOCK',
      'EDITOR',
    ])
      assert.ok(withheld.includes(name), name);
    assert.ok(!JSON.stringify(env).includes(KEY));
  });

  test('SSH_AUTH_SOCK passes only for an ssh:// engine', () => {
    assert.equal(
      childEnv({ env: HOST, dockerHost: 'ssh://ada@gpu-box' }).env.SSH_AUTH_SOCK,
      HOST.SSH_AUTH_SOCK,
    );
    assert.equal(
      childEnv({ env: { ...HOST, DOCKER_HOST: 'ssh://gpu' } }).env.SSH_AUTH_SOCK,
      HOST.SSH_AUTH_SOCK,
    );
    assert.equal(childEnv({ env: HOST, dockerHost: 'tcp://box:2376' }).env.SSH_AUTH_SOCK, undefined);
  });

  test('a value holding the model key is left out under any name, and refused when set explicitly', () => {
    const { env } = childEnv({ env: { PATH: `/bin:${KEY}`, HOME: '/h' }, secrets: [KEY] });
    assert.deepEqual(env, { HOME: '/h' });
    assert.throws(() => childEnv({ env: {}, secrets: [KEY], set: { DOCKER_HOST: KEY } }), /DOCKER_HOST/);
    // Set values are added after filtering.
    assert.equal(childEnv({ env: {}, set: { ELECTRON_RUN_AS_NODE: '1' } }).env.ELECTRON_RUN_AS_NODE, '1');
    // A short or empty "secret" is ignored rather than blanking everything that contains it.
    assert.equal(childEnv({ env: { HOME: '/home/a' }, secrets: ['a', '', undefined] }).env.HOME, '/home/a');
  });

  test('secret-looking names', () => {
    const secret = [
      'OPENAI_API_KEY',
      'KLONG_API_KEY',
      'api_key',
      'GH_TOKEN',
      'SLACK_BOT_TOKEN',
      'CLIENT_SECRET',
      'DB_PASSWORD',
      'PGPASSWORD',
      'SMTP_PASSWD',
      'GPG_PASSPHRASE',
      'DB_PASS',
      'MYSQL_PWD',
      'AZURE_CREDENTIALS',
      'GOOGLE_APPLICATION_CREDENTIALS',
      'DOCKER_AUTH_CONFIG',
      'BASIC_AUTH',
      'SSH_PRIVATE',
      'SESSION_COOKIE',
      'SENTRY_DSN',
      'AWS_SESSION_TOKEN',
      'REGISTRY_CREDS',
      'APP_SALT',
    ];
    const plain = [
      'PATH',
      'HOME',
      'LANG',
      'DOCKER_HOST',
      'DOCKER_CERT_PATH',
      'HTTP_PROXY',
      'PWD',
      'PASSAGE',
      'TMPDIR',
    ];
    for (const n of secret) assert.equal(looksSecret(n), true, n);
    for (const n of plain) assert.equal(looksSecret(n), false, n);
  });

  test('localEnv of a withheld variable resolves to empty with a warning naming it', () => {
    const text = `{
      // JSONC
      "containerEnv": { "A": "\${localEnv:OPENAI_API_KEY}", "B": "\${localEnv:HOME}", "C": "\${env:EDITOR}" },
      "build": { "args": { "K": "\${localEnv:MY_SERVICE_TOKEN:fallback}" } },
      "mounts": ["source=\${localEnv:UNSET_DIR:/tmp},target=/x,type=bind"],
      "postCreateCommand": "echo \${localEnv:OPENAI_API_KEY}"
    }`;
    assert.deepEqual(localEnvNames(text), [
      'OPENAI_API_KEY',
      'HOME',
      'EDITOR',
      'MY_SERVICE_TOKEN',
      'UNSET_DIR',
    ]);
    const child = childEnv({ env: HOST, secrets: [KEY] });
    const warnings = withholdLocalEnv(text, child, HOST);
    assert.equal(warnings.length, 3, warnings.join('\n'));
    assert.match(warnings[0]!, /\$\{localEnv:OPENAI_API_KEY\}.*looks like a secret.*resolves to empty/);
    assert.match(warnings[1]!, /\$\{localEnv:EDITOR\}.*only PATH, HOME/);
    // Not set on the host, but a secret's name: blanked too, so the file's default cannot stand in.
    assert.match(warnings[2]!, /MY_SERVICE_TOKEN/);
    assert.equal(child.env.OPENAI_API_KEY, '');
    assert.equal(child.env.MY_SERVICE_TOKEN, '');
    assert.equal(child.env.HOME, '/home/ada');
    assert.equal('UNSET_DIR' in child.env, false, 'an unset ordinary name keeps its default');
  });

  test('a proxy with a password passes for pulls but not into localEnv', () => {
    const host = { ...HOST, HTTPS_PROXY: 'http://ada:hunter2@proxy:3128' };
    const child = childEnv({ env: host });
    assert.equal(child.env.HTTPS_PROXY, 'http://ada:hunter2@proxy:3128');
    const warnings = withholdLocalEnv(
      `{"containerEnv": {"P": "\${localEnv:HTTPS_PROXY}", "Q": "\${localEnv:HTTP_PROXY}"}}`,
      child,
      host,
    );
    assert.deepEqual(warnings.length, 1);
    assert.match(warnings[0]!, /localEnv:HTTPS_PROXY\}, whose value holds a password/);
    assert.equal(child.env.HTTPS_PROXY, '');
    assert.equal(child.env.HTTP_PROXY, 'http://proxy:3128', 'a proxy without credentials is readable');
  });

  test('a child started with spawnChild sees only the allow-listed environment', () => {
    const child = spawnChild(process.execPath, ['-e', 'process.stdout.write(JSON.stringify(process.env))'], {
      env: { env: HOST, secrets: [KEY] },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d) => {
        out += d;
      });
      child.on('error', reject);
      child.on('close', () => {
        try {
          const seen = JSON.parse(out) as Record<string, string>;
          assert.equal(seen.HOME, '/home/ada');
          assert.equal(seen.OPENAI_API_KEY, undefined);
          assert.ok(!out.includes(KEY));
          resolve();
        } catch (err) {
          reject(err);
        }
      });
    });
  });

  test('every child process in src/ is started through spawnChild', () => {
    const root = join(__dirname, '..', '..', '..', 'src');
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.tsx?$/.test(name) && !p.endsWith(join('sandbox', 'child-env.ts'))) {
          const text = readFileSync(p, 'utf8');
          if (/['"](node:)?child_process['"]|\bexeca\b|cross-spawn/.test(text))
            offenders.push(relative(root, p));
        }
      }
    };
    walk(root);
    assert.deepEqual(offenders, [], 'use spawnChild from src/sandbox/child-env.ts');
  });
});
