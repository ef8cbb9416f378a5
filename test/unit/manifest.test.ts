import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const uiSource = readdirSync(join(root, 'src/ui'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts'))
  .map((f) => readFileSync(join(root, 'src/ui', f), 'utf8'))
  .join('\n');

test('every contributed command is registered by the extension', () => {
  const ids: string[] = manifest.contributes.commands.map((c: { command: string }) => c.command);
  assert.ok(ids.includes('klong.reproducePaper'));
  for (const id of ids)
    assert.match(uiSource, new RegExp(`'${id.replaceAll('.', '\\.')}'`), `${id} is not registered`);
});

test('menus only reference contributed commands', () => {
  const ids = new Set(manifest.contributes.commands.map((c: { command: string }) => c.command));
  for (const [menu, items] of Object.entries(
    manifest.contributes.menus as Record<string, { command: string }[]>,
  )) {
    for (const item of items) assert.ok(ids.has(item.command), `${menu} references unknown ${item.command}`);
  }
});

// On startup (after the window is up), so that a running session of the workspace is followed at
// once; kept cheap by the lazy engine bundle (architecture.test.ts) and timed in bench/activation-host.
test('activation: on startup finished, never "*"', () => {
  for (const e of manifest.activationEvents) assert.notEqual(e, '*');
  assert.ok(manifest.activationEvents.includes('onStartupFinished'));
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
  // The session folder holds the engines' control sockets; detached engines get the model key.
  for (const key of ['klong.model.baseUrl', 'klong.docker.host', 'klong.stateDir', 'klong.engine.detached'])
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

/** VS Code's when-clause grammar as the keybindings use it: `||` of `&&` of `[!]key` or `key > n`. */
function when(clause: string, ctx: Record<string, boolean | number>): boolean {
  return clause.split('||').some((all) =>
    all.split('&&').every((term) => {
      const t = term.trim();
      const gt = /^([\w.]+)\s*>\s*(\d+)$/.exec(t);
      if (gt) return Number(ctx[gt[1]!] ?? 0) > Number(gt[2]);
      return t.startsWith('!') ? !ctx[t.slice(1)] : !!ctx[t];
    }),
  );
}

test('keybindings do not take characters while the user types', () => {
  const bindings = manifest.contributes.keybindings as { command: string; key: string; when: string }[];
  // Ctrl+Alt+<letter> is AltGr+<letter> on Windows layouts (€, ę, ń…): such a binding may fire only
  // where nothing is typed — not in an editable editor — unless it is the second half of a chord.
  const typing = { editorTextFocus: true, editorReadonly: false, inputFocus: true };
  const contexts = [
    { name: 'the user’s side of a proposal diff', ctx: { ...typing, 'klong.proposalFocused': true } },
    { name: 'any editor with pending edits', ctx: { ...typing, 'klong.pendingEdits': 3 } },
  ];
  const altGr = bindings.filter((b) => /^ctrl\+alt\+[a-z0-9]$/.test(b.key));
  assert.ok(altGr.length >= 2, 'the accept/reject-change bindings are Ctrl+Alt+letter');
  for (const b of altGr) {
    for (const { name, ctx } of contexts) {
      assert.equal(when(b.when, ctx), false, `${b.key} (${b.command}) fires while typing in ${name}`);
    }
  }
  // They still work where the cursor is on the agent's (read-only) side of the diff.
  const agentSide = { editorTextFocus: true, editorReadonly: true, 'klong.proposalFocused': true };
  for (const b of altGr)
    assert.equal(when(b.when, agentSide), true, `${b.key} should work on the agent's side`);
  for (const b of bindings) assert.ok(b.when, `${b.key} (${b.command}) has no when clause`);
});

test('the extension runs where the workspace is (Remote-SSH, Dev Containers, Codespaces)', () => {
  assert.deepEqual(manifest.extensionKind, ['workspace']);
});
