/**
 * ARCHITECTURE.md's rule for unit tests: a test in a folder of test/unit/ mirrors the module it tests
 * (`test/unit/ui/model/status-text.test.ts` → `src/ui/model/status-text.ts`), so a module's tests are
 * found by its path. A second file for one module adds what it covers (`session-model-live.test.ts`).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '..', '..');

function testsBelow(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) return testsBelow(rel);
    return name.endsWith('.test.ts') ? [rel] : [];
  });
}

/** The module a mirrored test names, or undefined when no such module exists. */
function moduleOf(testPath: string, exists: (p: string) => boolean): string | undefined {
  const rel = testPath.replace(/^test\/unit\//, '').replace(/\.test\.ts$/, '');
  const base = rel.startsWith('webview-ui/') ? rel : `src/${rel}`;
  // `session-model-live` → `session-model-live`, `session-model`: the longest existing prefix wins.
  const parts = base.split('-');
  for (let n = parts.length; n > 0; n--) {
    const candidate = parts.slice(0, n).join('-');
    for (const p of [`${candidate}.ts`, `${candidate}/index.ts`]) if (exists(p)) return p;
  }
  return undefined;
}

test('a unit test in a folder mirrors the path of an existing module', () => {
  const folders = readdirSync(join(root, 'test/unit')).filter((n) =>
    statSync(join(root, 'test/unit', n)).isDirectory(),
  );
  const tests = folders.flatMap((f) => testsBelow(`test/unit/${f}`));
  assert.ok(tests.length > 10, `expected the mirrored tests, found ${tests.length}`);
  const stray = tests.filter((t) => !moduleOf(t, (p) => existsSync(join(root, p))));
  assert.deepEqual(
    stray,
    [],
    'each test/unit/<layer>/<path>.test.ts tests src/<layer>/<path>.ts (or webview-ui/<path>.ts); rename or move these',
  );
});

test('the mirror rule: a suffix names what a second file covers; a missing module is found', () => {
  const modules = new Set([
    'src/ui/model/session-model.ts',
    'src/edits/index.ts',
    'webview-ui/shared/markdown.ts',
  ]);
  const has = (p: string) => modules.has(p);
  assert.equal(moduleOf('test/unit/ui/model/session-model.test.ts', has), 'src/ui/model/session-model.ts');
  assert.equal(
    moduleOf('test/unit/ui/model/session-model-live.test.ts', has),
    'src/ui/model/session-model.ts',
  );
  assert.equal(moduleOf('test/unit/edits.test.ts', has), 'src/edits/index.ts');
  assert.equal(
    moduleOf('test/unit/webview-ui/shared/markdown.test.ts', has),
    'webview-ui/shared/markdown.ts',
  );
  assert.equal(moduleOf('test/unit/ui/model/timeline.test.ts', has), undefined);
  assert.equal(moduleOf('test/unit/session/model.test.ts', has), undefined);
});

test("every integration test file is in ARCHITECTURE.md's table of what each drives", () => {
  const doc = readFileSync(join(root, 'ARCHITECTURE.md'), 'utf8');
  const table = /^\| integration files[^\n]*\n((?:\|[^\n]*\n)+)/m.exec(doc);
  assert.ok(table, "ARCHITECTURE.md has no '| integration files' table");
  const patterns = table[1]!
    .split('\n')
    .flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!))
    .map((p) => new RegExp(`^${p.replaceAll('-', '\\-').replaceAll('*', '.*')}\\.test\\.ts$`));
  const files = readdirSync(join(root, 'test/integration')).filter((f) => f.endsWith('.test.ts'));
  assert.ok(files.length > 10, `expected the integration tests, found ${files.length}`);
  const missing = files.filter((f) => !patterns.some((p) => p.test(f)));
  assert.deepEqual(missing, [], 'add these to the integration table of ARCHITECTURE.md (Tests)');
});
