/**
 * Paths whose content runs on the user's machine without anyone typing a command: git hooks and
 * config, editor tasks and launch configs, devcontainer definitions (KLong itself builds the next
 * container from them), CI workflows, direnv files, and files the agent made executable. A change
 * to one needs an explicit accept in every approval mode: auto-accept leaves it pending, "Accept
 * all" skips it, and the UI and the CLI say why.
 *
 * Matching is on every path segment, at any depth, and deliberately loose: case-insensitive (a
 * case-insensitive disk opens `.Git/hooks` as `.git/hooks`), ignoring what Windows and macOS drop
 * from a name (trailing dots and spaces, NTFS stream suffixes `::$DATA`, HFS+ ignorable code
 * points), and the NTFS short name `GIT~1`. A false positive costs one click; a miss runs code.
 */

/** Why a change needs an explicit accept (shown in the proposal list, the diff title, the CLI). */
export type SensitiveReason = string;

/** What the sandbox knows about the file mode of a change (undefined: not known). */
export interface ModeChange {
  /** The file is executable in the container now (any x bit). */
  executable?: boolean;
  /** The file was executable at the baseline (false for a new file). */
  wasExecutable?: boolean;
}

/**
 * `reproduce.sh` at the workspace root is the one executable the agent is asked to write
 * (PaperBench runs it); any other file the agent makes executable is flagged, wherever it is.
 */
export const EXECUTABLE_ALLOWED = new Set(['reproduce.sh']);

// Code points HFS+ ignores in names (so `.g\u200Cit` is `.git` there) plus the BOM.
const IGNORABLE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u206A-\u206F\uFEFF]/g;

/** A path segment as a case-insensitive filesystem on Windows or macOS would resolve it. */
export function canonicalSegment(segment: string): string {
  let s = segment.normalize('NFC').replace(IGNORABLE, '');
  // NTFS: `name::$DATA`, `name:stream` address the file `name`.
  const colon = s.indexOf(':');
  if (colon > 0) s = s.slice(0, colon);
  // Windows drops trailing dots and spaces: `.git.` and `.vscode ` are `.git` and `.vscode`.
  s = s.replace(/[. ]+$/, '');
  return s.toLowerCase();
}

function segments(path: string): string[] {
  return path
    .split(/[\\/]+/)
    .filter((s) => s !== '' && s !== '.')
    .map(canonicalSegment);
}

/** The reason a path is sensitive by its name alone, or undefined. */
export function sensitivePath(path: string): SensitiveReason | undefined {
  const segs = segments(path);
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    const dir = i < segs.length - 1;
    if (/^git~\d+$/.test(s) && dir) return 'git directory (NTFS short name): hooks and config run with git';
    if (s === '.git')
      return dir
        ? 'inside a .git directory: hooks and config run with git'
        : '.git file: points git at another repository';
    if (s === '.github' && segs[i + 1] === 'workflows' && i + 1 < segs.length - 1)
      return 'CI workflow: runs with your repository secrets when pushed';
    if (s.startsWith('.git'))
      return s === '.gitattributes'
        ? 'git attributes: filters and diff drivers run commands'
        : s === '.gitmodules'
          ? 'git submodules: git fetches and checks them out'
          : `git file (${segs[i]}): read by git and CI on your machine`;
    if (s === '.vscode' && dir) return 'VS Code config: tasks and launch configs can run on folder open';
    if (s === '.devcontainer' && dir) return 'devcontainer config: builds and runs the next container';
    if (s === '.devcontainer.json') return 'devcontainer config: builds and runs the next container';
    if (s.endsWith('.code-workspace')) return 'VS Code workspace file: settings and tasks for the window';
    if (s === '.envrc') return 'direnv file: runs in your shell when you enter the folder';
  }
  return undefined;
}

/** The reason a change needs an explicit accept, or undefined for an ordinary change. */
export function sensitiveChange(path: string, mode: ModeChange = {}): SensitiveReason | undefined {
  const byName = sensitivePath(path);
  if (byName) return byName;
  if (mode.executable && !mode.wasExecutable && !EXECUTABLE_ALLOWED.has(segments(path).join('/')))
    return 'made executable by the agent: meant to be run';
  return undefined;
}
