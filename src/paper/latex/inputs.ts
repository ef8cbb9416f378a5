/** `\input`, `\include`, `\import` and packages shipped with the source: the files of a LaTeX source read into one text. */
import { isEscaped, readArg, readGroup, skipSpace, stripComments } from './scan';

/** How an \input'd name is found: the reader gives a file's text by its normalized path, if any. */
export type ReadFile = (path: string) => string | undefined;

/** `a/./b/../c` → `a/c`; undefined for absolute paths and paths that climb out of the root. */
export function normalizePath(p: string): string | undefined {
  if (/^([/\\]|[A-Za-z]:)/.test(p)) return undefined;
  const out: string[] = [];
  for (const part of p.replace(/\\/g, '/').split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (!out.length) return undefined;
      out.pop();
    } else out.push(part);
  }
  return out.join('/');
}

const dirOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/') + 1) : '');

/**
 * `\input`, `\include`, `\subfile`, `\import`/`\subimport` replaced by the files' text (comments
 * removed), relative to the main file's folder as LaTeX does, then to the including file's.
 * Missing files and cycles are reported in `warnings` and left out.
 */
export function resolveInputs(
  text: string,
  read: ReadFile,
  mainPath: string,
  warnings: string[],
  depth = 0,
  current = mainPath,
  seen = new Set<string>([mainPath]),
): string {
  const re = /\\(input|include|subfile|import|subimport|includefrom|subincludefrom)(?![a-zA-Z@])/g;
  let out = '';
  let from = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (isEscaped(text, m.index)) continue;
    const cmd = m[1]!;
    let end = m.index + m[0].length;
    let name: string;
    let dir = '';
    if (cmd === 'import' || cmd === 'subimport' || cmd.endsWith('from')) {
      const d = readArg(text, end);
      const f = readArg(text, d.end);
      dir = d.text.trim();
      if (dir && !dir.endsWith('/')) dir += '/';
      name = f.text;
      end = f.end;
      if (cmd.startsWith('sub')) dir = dirOf(current) + dir;
    } else {
      const g = readGroup(text, end);
      if (g) {
        name = g.text;
        end = g.end;
      } else {
        // `\input file` (TeX's own syntax): the name runs to the next space or brace.
        const j = skipSpace(text, end);
        const w = /^[^\s{}\\%]+/.exec(text.slice(j));
        if (!w) continue;
        name = w[0];
        end = j + w[0].length;
      }
    }
    name = name.trim().replace(/^"|"$/g, '');
    // A macro's `\input{figs/#1}` is read once the macro is expanded.
    if (name.includes('#')) continue;
    out += text.slice(from, m.index);
    from = end;
    const found = findInput(read, [dir + name, dirOf(current) + dir + name]);
    if (!found) {
      warnings.push(`\\${cmd}{${name}}: no such file in the source`);
      continue;
    }
    if (seen.has(found.path) || depth >= 20) {
      warnings.push(`\\${cmd}{${name}}: included in itself; left out`);
      continue;
    }
    const inner = resolveInputs(
      stripComments(found.text),
      read,
      mainPath,
      warnings,
      depth + 1,
      found.path,
      new Set([...seen, found.path]),
    );
    out += cmd === 'include' ? `\n\n${inner}\n\n` : inner;
  }
  return out + text.slice(from);
}

/** The first of the names (each tried with `.tex` first) that the source has. */
function findInput(read: ReadFile, names: string[]): { path: string; text: string } | undefined {
  for (const c of names) {
    for (const p of [`${c}.tex`, c]) {
      const n = normalizePath(p);
      const t = n === undefined ? undefined : read(n);
      if (t !== undefined && n !== undefined) return { path: n, text: t };
    }
  }
  return undefined;
}

/**
 * `\usepackage{name}` of a package that ships with the source (`name.sty`) replaced by its text, so
 * that the macros it defines are expanded like the paper's own.
 */
export function includeLocalPackages(preamble: string, read: ReadFile, dir = ''): string {
  return preamble.replace(
    /\\(?:usepackage|RequirePackage)\s*(?:\[[^\]]*\])?\s*\{([^}]*)\}/g,
    (all, names: string) => {
      const found = names
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean)
        .map((n) => {
          const p = normalizePath(`${dir}${n}.sty`);
          return p === undefined ? undefined : read(p);
        })
        .filter((t): t is string => t !== undefined);
      return found.length ? found.map((t) => stripComments(t)).join('\n') : all;
    },
  );
}
