/**
 * The layer rules of ARCHITECTURE.md, checked on every import under src/ and webview-ui/. The rules
 * are read from the document's `layers` block, so the document and the check cannot drift apart.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..', '..');

interface Import {
  /** The file that imports, relative to the repository, with `/`. */
  from: string;
  /** The module specifier as written. */
  spec: string;
  typeOnly: boolean;
  dynamic: boolean;
}

/** Every import, re-export, dynamic import and require() of a file. */
function importsOf(file: string, text: string): Import[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: Import[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      const clause = n.importClause;
      const typeOnly =
        !!clause &&
        (clause.isTypeOnly ||
          (!clause.name &&
            !!clause.namedBindings &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      out.push({ from: file, spec: n.moduleSpecifier.text, typeOnly, dynamic: false });
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      out.push({ from: file, spec: n.moduleSpecifier.text, typeOnly: n.isTypeOnly, dynamic: false });
    } else if (
      ts.isCallExpression(n) &&
      (n.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(n.expression) && n.expression.text === 'require')) &&
      n.arguments[0] &&
      ts.isStringLiteralLike(n.arguments[0])
    ) {
      out.push({ from: file, spec: n.arguments[0].text, typeOnly: false, dynamic: true });
    } else if (
      ts.isImportTypeNode(n) &&
      ts.isLiteralTypeNode(n.argument) &&
      ts.isStringLiteral(n.argument.literal)
    ) {
      out.push({ from: file, spec: n.argument.literal.text, typeOnly: true, dynamic: false });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** `layer: a b c` lines of ARCHITECTURE.md's ```layers block. */
function parseLayers(markdown: string): Map<string, Set<string>> {
  const block = /```layers\n([\s\S]*?)```/.exec(markdown);
  if (!block) throw new Error('ARCHITECTURE.md has no ```layers block');
  const layers = new Map<string, Set<string>>();
  for (const line of block[1]!.split('\n')) {
    const m = /^(\w+):\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    const deps = m[2]!.startsWith('(') ? [] : m[2]!.split(/\s+/).filter(Boolean);
    layers.set(m[1]!, new Set(deps));
  }
  return layers;
}

/** The layer of a file under src/ (`extension` for src/extension.ts), or undefined outside src/. */
function layerOf(file: string): string | undefined {
  const parts = file.split('/');
  if (parts[0] !== 'src') return undefined;
  if (parts.length === 2) return parts[1]!.replace(/\.ts$/, '');
  return parts[1];
}

/** Broken rules, one message each, naming the rule. */
function violations(imports: Import[], layers: Map<string, Set<string>>): string[] {
  const out: string[] = [];
  for (const imp of imports) {
    const where = `${imp.from} imports '${imp.spec}'`;
    const fromLayer = layerOf(imp.from);
    const isWebview = imp.from.startsWith('webview-ui/');
    if (imp.spec === 'vscode' && fromLayer !== 'ui' && fromLayer !== 'extension') {
      out.push(
        `${where}: only src/extension.ts and src/ui/ may import vscode${imp.typeOnly ? ' (even as a type)' : ''}`,
      );
      continue;
    }
    if (isWebview && imp.spec.startsWith('node:')) {
      out.push(`${where}: webview-ui runs in a webview and cannot use Node modules`);
      continue;
    }
    if (!imp.spec.startsWith('.')) continue;
    const target = relative(root, resolve(root, dirname(imp.from), imp.spec))
      .split(sep)
      .join('/');
    if (isWebview) {
      if (!target.startsWith('webview-ui/') && !target.startsWith('src/protocol/')) {
        out.push(`${where}: webview-ui may import only its own files and src/protocol/`);
      }
      continue;
    }
    if (!fromLayer) continue;
    const toLayer = layerOf(target.endsWith('.ts') ? target : `${target}.ts`);
    if (!toLayer || toLayer === fromLayer) continue;
    const allowed = layers.get(fromLayer);
    if (!allowed) {
      out.push(`${where}: layer '${fromLayer}' is not in ARCHITECTURE.md's layer table`);
    } else if (!allowed.has(toLayer)) {
      out.push(
        `${where}: layer '${fromLayer}' may import only ${[...allowed].join(', ') || 'no other layer'} (ARCHITECTURE.md), not '${toLayer}'`,
      );
    } else if (fromLayer === 'ui' && toLayer === 'engine' && !imp.typeOnly) {
      const lazy = imp.dynamic && target === 'src/engine/extension-api';
      if (!lazy) {
        out.push(
          `${where}: ui may use the engine only as types or through await import('../engine/extension-api') (the lazily loaded engine bundle)`,
        );
      }
    }
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const rel = `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) out.push(...sourceFiles(rel));
    else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

const layers = parseLayers(readFileSync(join(root, 'ARCHITECTURE.md'), 'utf8'));

describe('architecture: the layer rules of ARCHITECTURE.md', () => {
  it('every import under src/ and webview-ui/ follows them', () => {
    const files = [...sourceFiles('src'), ...sourceFiles('webview-ui')];
    assert.ok(files.length > 100, `expected the whole tree, found ${files.length} files`);
    const imports = files.flatMap((f) => importsOf(f, readFileSync(join(root, f), 'utf8')));
    assert.deepEqual(violations(imports, layers), []);
  });

  it('every folder of src/ has a row in the layer table', () => {
    const folders = readdirSync(join(root, 'src')).filter((n) =>
      statSync(join(root, 'src', n)).isDirectory(),
    );
    for (const f of folders)
      assert.ok(layers.has(f), `src/${f}/ has no row in ARCHITECTURE.md's layer table`);
    for (const [layer, deps] of layers) {
      for (const d of deps) assert.ok(layers.has(d), `layer ${layer} names an unknown layer ${d}`);
    }
  });

  it('names the broken rule for each kind of violation', () => {
    const check = (from: string, text: string) => violations(importsOf(from, text), layers);
    assert.match(
      check('src/agent/x.ts', "import * as vscode from 'vscode';")[0] ?? '',
      /only src\/extension\.ts and src\/ui\//,
    );
    assert.match(check('src/agent/x.ts', "import type { Uri } from 'vscode';")[0] ?? '', /even as a type/);
    assert.match(
      check('src/sandbox/x.ts', "import { x } from '../agent/loop';")[0] ?? '',
      /layer 'sandbox' may import only no other layer/,
    );
    assert.match(check('src/session/x.ts', "export { x } from '../cli/main';")[0] ?? '', /not 'cli'/);
    assert.match(check('src/engine/x.ts', "const m = require('../ui/register');")[0] ?? '', /not 'ui'/);
    assert.match(
      check('src/ui/x.ts', "import { Reproduction } from '../engine/reproduction';")[0] ?? '',
      /only as types or through await import/,
    );
    assert.match(
      check('src/ui/x.ts', "const m = await import('../engine/reproduction');")[0] ?? '',
      /only as types/,
    );
    assert.match(
      check('webview-ui/paper/x.ts', "import { a } from '../../src/events/events';")[0] ?? '',
      /only its own files and src\/protocol/,
    );
    assert.match(
      check('webview-ui/x.ts', "import { readFileSync } from 'node:fs';")[0] ?? '',
      /cannot use Node modules/,
    );
    assert.match(
      check('src/newlayer/x.ts', "import { a } from '../events/events';")[0] ?? '',
      /not in ARCHITECTURE\.md's layer table/,
    );
    // A subfolder belongs to its top folder's layer (src/paper/grading/ is `paper`).
    assert.match(
      check('src/paper/grading/x.ts', "import { a } from '../../engine/reproduction';")[0] ?? '',
      /layer 'paper' may import only llm .*not 'engine'/,
    );
    assert.deepEqual(check('src/paper/latex/x.ts', "import { a } from '../../llm/client';"), []);
    assert.deepEqual(check('src/paper/latex/x.ts', "import { a } from '../pdf/markdown';"), []);
    // What the rules allow.
    assert.deepEqual(check('src/ui/x.ts', "import type { Reproduction } from '../engine/reproduction';"), []);
    assert.deepEqual(check('src/ui/x.ts', "const e = await import('../engine/extension-api');"), []);
    assert.deepEqual(check('src/edits/x.ts', "import type { EventSink } from '../events/events';"), []);
    assert.deepEqual(
      check('webview-ui/progress/x.ts', "import { p } from '../../src/protocol/progress';"),
      [],
    );
  });
});
