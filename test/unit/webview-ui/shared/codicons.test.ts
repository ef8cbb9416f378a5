/** The webviews draw icons with codicons, as the workbench does, not with Unicode symbols. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(__dirname, '..', '..', '..', '..', 'webview-ui');
/** Arrows, technical symbols, geometric shapes, dingbats and other pictographs. */
const SYMBOL = /[\u2190-\u21ff\u2300-\u23ff\u25a0-\u27bf\u2b00-\u2bff\u{1f300}-\u{1faff}]/u;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('no Unicode symbol stands in for an icon in the webviews', () => {
  const found: string[] = [];
  for (const f of files(root)) {
    readFileSync(f, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        // Comments may name what they replace.
        if (SYMBOL.test(line) && !/^\s*(\/\/|\*|\/\*)/.test(line))
          found.push(`${f}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.deepEqual(found, []);
});

test('every codicon the webviews use is in the glyph table', () => {
  const table = readFileSync(join(root, 'shared', 'codicons.ts'), 'utf8');
  const known = new Set([...table.matchAll(/^\s+'?([a-z-]+)'?: 0x[0-9a-f]+,$/gm)].map((m) => m[1]));
  assert.ok(known.size > 20);
  const used = new Set<string>();
  for (const f of files(root)) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/\bicon\('([a-z-]+)'/g)) used.add(m[1]!);
    for (const m of text.matchAll(/btn\('([a-z-]+)'/g)) used.add(m[1]!);
  }
  assert.ok(used.size > 5, `found ${[...used]}`);
  for (const u of used) assert.ok(known.has(u), `codicon ${u} is not in webview-ui/shared/codicons.ts`);
});
