import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const uiSource = readdirSync(join(root, 'src/ui'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => readFileSync(join(root, 'src/ui', f), 'utf8'))
  .join('\n');

test('every contributed command is registered by the extension', () => {
  const ids: string[] = manifest.contributes.commands.map((c: { command: string }) => c.command);
  assert.ok(ids.includes('klong.reproducePaper'));
  for (const id of ids)
    assert.match(uiSource, new RegExp(`'${id.replace('.', '\\.')}'`), `${id} is not registered`);
});

test('menus only reference contributed commands', () => {
  const ids = new Set(manifest.contributes.commands.map((c: { command: string }) => c.command));
  for (const [menu, items] of Object.entries(
    manifest.contributes.menus as Record<string, { command: string }[]>,
  )) {
    for (const item of items) assert.ok(ids.has(item.command), `${menu} references unknown ${item.command}`);
  }
});

test('activation is lazy: no "*" and no onStartupFinished', () => {
  for (const e of manifest.activationEvents) assert.ok(e !== '*' && e !== 'onStartupFinished', e);
});

test('settings have defaults and descriptions', () => {
  const props = manifest.contributes.configuration.properties as Record<string, Record<string, unknown>>;
  for (const key of [
    'klong.model.baseUrl',
    'klong.model.name',
    'klong.session.timeBudget',
    'klong.edits.approvalMode',
    'klong.docker.host',
    'klong.docker.memoryLimit',
    'klong.docker.cpus',
    'klong.docker.pidsLimit',
  ]) {
    assert.ok(props[key], `missing setting ${key}`);
    assert.ok('default' in props[key]!, `${key} has no default`);
    assert.ok(props[key]!.description || props[key]!.markdownDescription, `${key} has no description`);
  }
  const budget = props['klong.session.timeBudget']!;
  const pattern = new RegExp(budget.pattern as string);
  for (const ok of ['12h', '90m', '1.5h', '2h30m']) assert.match(ok, pattern);
  for (const bad of ['12', 'h', '2 days']) assert.doesNotMatch(bad, pattern);
});

test('where the API key and the Docker engine are reached is a machine setting, not a workspace one', () => {
  const props = manifest.contributes.configuration.properties as Record<string, Record<string, unknown>>;
  for (const key of ['klong.model.baseUrl', 'klong.docker.host'])
    assert.equal(props[key]!.scope, 'machine', key);
  // A workspace may still choose the rest (model name, budget, approval mode…).
  assert.equal(props['klong.model.name']!.scope, undefined);
});

test('the engine matches the @types/vscode we compile against', () => {
  const engine = manifest.engines.vscode.replace('^', '');
  const types = JSON.parse(
    readFileSync(join(root, 'node_modules/@types/vscode/package.json'), 'utf8'),
  ).version;
  assert.equal(types.split('.').slice(0, 2).join('.'), engine.split('.').slice(0, 2).join('.'));
});
