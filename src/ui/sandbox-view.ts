/**
 * Into the session's container from VS Code: "KLong: Open terminal in the sandbox" (a terminal on an
 * interactive shell in the container) and the read-only "Sandbox files" view, whose files open
 * through the `klong-sandbox:` file system (so plots open in the image viewer, logs in an editor).
 * URIs: klong-sandbox://<session id>/<workspace-relative path>. Writes are refused.
 */
import * as vscode from 'vscode';
import type { SandboxBrowser, SandboxEntry } from '../sandbox/browse';
import type { SessionModel } from './model/session-model';

export const SANDBOX_SCHEME = 'klong-sandbox';

export interface SandboxViewOptions {
  model: SessionModel;
  stateDir: string;
  dockerHost: () => string | undefined;
  log: vscode.LogOutputChannel;
}

const TYPE: Record<SandboxEntry['type'], vscode.FileType> = {
  file: vscode.FileType.File,
  dir: vscode.FileType.Directory,
  symlink: vscode.FileType.SymbolicLink,
  other: vscode.FileType.Unknown,
};

export function sandboxUri(sessionId: string, path = ''): vscode.Uri {
  return vscode.Uri.from({
    scheme: SANDBOX_SCHEME,
    authority: sessionId,
    path: `/${path.replace(/^\/+/, '')}`,
  });
}

/** The container's workspace as a read-only file system. */
class SandboxFileSystem implements vscode.FileSystemProvider {
  private readonly emitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.emitter.event;

  constructor(private readonly browser: (sessionId: string) => Promise<SandboxBrowser>) {}

  private async call<T>(uri: vscode.Uri, fn: (b: SandboxBrowser, path: string) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.browser(uri.authority), uri.path);
    } catch (err) {
      const e = err as Error & { code?: string; hint?: string };
      if (e.code === 'FILE_NOT_FOUND') throw vscode.FileSystemError.FileNotFound(uri);
      if (e.code === 'PATH_ESCAPE') throw vscode.FileSystemError.NoPermissions(uri);
      throw new vscode.FileSystemError(`${e.message}${e.hint ? ` ${e.hint}` : ''}`);
    }
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }

  stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    return this.call(uri, async (b, p) => {
      const e = await b.stat(p);
      return {
        type: TYPE[e.type],
        ctime: e.mtimeMs,
        mtime: e.mtimeMs,
        size: e.size,
        permissions: vscode.FilePermission.Readonly,
      };
    });
  }

  readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    return this.call(uri, async (b, p) => (await b.list(p)).map((e) => [e.name, TYPE[e.type]]));
  }

  readFile(uri: vscode.Uri): Promise<Uint8Array> {
    return this.call(uri, (b, p) => b.read(p));
  }

  private refuse(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(
      `${uri.path}: the sandbox is read-only here. The agent's changes reach your files as proposals.`,
    );
  }
  createDirectory(uri: vscode.Uri): void {
    this.refuse(uri);
  }
  writeFile(uri: vscode.Uri): void {
    this.refuse(uri);
  }
  delete(uri: vscode.Uri): void {
    this.refuse(uri);
  }
  rename(uri: vscode.Uri): void {
    this.refuse(uri);
  }
}

export class SandboxNode {
  constructor(
    readonly sessionId: string,
    readonly path: string,
    readonly type: SandboxEntry['type'],
  ) {}
}

/** The "Sandbox files" tree: the current session's container workspace. */
class SandboxTree implements vscode.TreeDataProvider<SandboxNode> {
  private readonly emitter = new vscode.EventEmitter<SandboxNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  sessionId: string | undefined;
  /** Set by the view: why the root is empty (no container, Docker down), shown above the tree. */
  onProblem: (message: string | undefined) => void = () => undefined;

  constructor(private readonly fs: SandboxFileSystem) {}

  refresh(): void {
    this.emitter.fire(undefined);
  }

  async getChildren(node?: SandboxNode): Promise<SandboxNode[]> {
    const id = node?.sessionId ?? this.sessionId;
    if (!id) return [];
    let entries: [string, vscode.FileType][];
    try {
      entries = await this.fs.readDirectory(sandboxUri(id, node?.path ?? ''));
      if (!node) this.onProblem(undefined);
    } catch (err) {
      // Not a notification: a session without a container (finished, not yet started) is normal.
      if (!node) this.onProblem((err as Error).message);
      return [];
    }
    const dirs = entries.filter(([, t]) => t === vscode.FileType.Directory);
    const files = entries.filter(([, t]) => t !== vscode.FileType.Directory);
    const sort = (a: [string, vscode.FileType], b: [string, vscode.FileType]) => a[0].localeCompare(b[0]);
    return [...dirs.sort(sort), ...files.sort(sort)].map(
      ([name, t]) =>
        new SandboxNode(
          id,
          node?.path ? `${node.path}/${name}` : name,
          t === vscode.FileType.Directory ? 'dir' : 'file',
        ),
    );
  }

  getTreeItem(n: SandboxNode): vscode.TreeItem {
    const uri = sandboxUri(n.sessionId, n.path);
    const item = new vscode.TreeItem(
      uri,
      n.type === 'dir' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.contextValue = n.type === 'dir' ? 'sandboxFolder' : 'sandboxFile';
    if (n.type !== 'dir') item.command = { command: 'vscode.open', title: 'Open', arguments: [uri] };
    return item;
  }
}

/** Terminal and file view on the session's container; both find it by its session label. */
export class SandboxAccess implements vscode.Disposable {
  private readonly browsers = new Map<string, Promise<SandboxBrowser>>();
  private readonly fs = new SandboxFileSystem((id) => this.browser(id));
  private readonly tree = new SandboxTree(this.fs);
  private readonly disposables: vscode.Disposable[] = [];
  /** Open sandbox terminals (the e2e test reads what they showed). */
  readonly terminals: { terminal: vscode.Terminal; output: () => string }[] = [];

  constructor(private readonly o: SandboxViewOptions) {
    const view = vscode.window.createTreeView('klong.sandbox', {
      treeDataProvider: this.tree,
      showCollapseAll: true,
    });
    this.tree.onProblem = (m) => {
      view.message = m;
    };
    this.disposables.push(
      view,
      vscode.workspace.registerFileSystemProvider(SANDBOX_SCHEME, this.fs, {
        isReadonly: new vscode.MarkdownString(
          'A file in KLong’s sandbox (read-only: the agent’s changes reach your files as proposals).',
        ),
        isCaseSensitive: true,
      }),
      vscode.commands.registerCommand('klong.openSandboxTerminal', () => this.openTerminal()),
      vscode.commands.registerCommand('klong.browseSandbox', () => this.browse()),
      vscode.commands.registerCommand('klong.sandbox.refresh', () => {
        this.browsers.clear();
        this.tree.refresh();
      }),
    );
    this.tree.sessionId = o.model.snapshot.session?.id;
    const unsubscribe = o.model.onChange(() => {
      const id = o.model.snapshot.session?.id;
      if (id && id !== this.tree.sessionId) {
        this.tree.sessionId = id;
        this.tree.refresh();
      }
    });
    this.disposables.push(new vscode.Disposable(unsubscribe));
  }

  private browser(sessionId: string): Promise<SandboxBrowser> {
    let b = this.browsers.get(sessionId);
    if (!b) {
      b = import('../engine/extension-api').then((m) =>
        m.SandboxBrowser.open(sessionId, this.o.dockerHost()),
      );
      // A failed lookup (no container yet) is asked again next time.
      b.catch(() => this.browsers.delete(sessionId));
      this.browsers.set(sessionId, b);
    }
    return b;
  }

  /** The current session, else one of this window's sessions whose container runs. */
  private async pickSession(): Promise<string | undefined> {
    const current = this.o.model.snapshot.session?.id;
    if (current) return current;
    const { listSessionContainers, stateLabel } = await import('../engine/extension-api');
    const [[key, mine]] = Object.entries(stateLabel(this.o.stateDir)) as [[string, string]];
    const running = (await listSessionContainers(this.o.dockerHost())).filter(
      (c) => c.state === 'running' && c.labels[key] === mine,
    );
    if (!running.length) {
      void vscode.window.showInformationMessage(
        'KLong: no session has a running container. Start or resume a session first.',
      );
      return undefined;
    }
    if (running.length === 1) return running[0]!.labels['klong.session'];
    const pick = await vscode.window.showQuickPick(
      running.map((c) => ({ label: c.labels['klong.session'] ?? c.id, description: c.name })),
      { title: 'KLong: which session’s sandbox?' },
    );
    return pick?.label;
  }

  private fail(what: string, err: unknown): void {
    const e = err as Error & { hint?: string };
    this.o.log.warn(`${what}: ${e.message}`);
    void vscode.window.showErrorMessage(`KLong: ${what}: ${e.message}${e.hint ? ` ${e.hint}` : ''}`);
  }

  async browse(): Promise<void> {
    try {
      const id = await this.pickSession();
      if (!id) return;
      await this.browser(id);
      this.tree.sessionId = id;
      this.tree.refresh();
      // The view shows while a session runs; this shows it for another session's container too.
      await vscode.commands.executeCommand('setContext', 'klong.sandboxBrowsing', true);
      await vscode.commands.executeCommand('klong.sandbox.focus');
    } catch (err) {
      this.fail('Could not open the sandbox', err);
    }
  }

  async openTerminal(): Promise<vscode.Terminal | undefined> {
    let browser: SandboxBrowser;
    let id: string | undefined;
    try {
      id = await this.pickSession();
      if (!id) return undefined;
      browser = await this.browser(id);
    } catch (err) {
      this.fail('Could not open a terminal in the sandbox', err);
      return undefined;
    }
    const write = new vscode.EventEmitter<string>();
    const close = new vscode.EventEmitter<number>();
    let shell: Awaited<ReturnType<SandboxBrowser['shell']>> | undefined;
    let early = '';
    let shown = '';
    const show = (s: string) => {
      shown = (shown + s).slice(-64 * 1024);
      write.fire(s);
    };
    const pty: vscode.Pseudoterminal = {
      onDidWrite: write.event,
      onDidClose: close.event,
      open: (dims) => {
        show(
          `\x1b[2mKLong sandbox: session ${id}, container ${browser.containerName}.\r\nChanges you make in ${browser.workdir} come back as proposed edits, like the agent's.\x1b[0m\r\n`,
        );
        browser.shell(dims ?? { columns: 80, rows: 24 }).then(
          (s) => {
            shell = s;
            s.onData(show);
            void s.exited.then((code) => close.fire(code ?? 0));
            if (early) s.write(early);
            early = '';
          },
          (err: unknown) => {
            show(`\r\nCould not start a shell in the sandbox: ${(err as Error).message}\r\n`);
            close.fire(1);
          },
        );
      },
      close: () => shell?.close(),
      handleInput: (data) => {
        if (shell) shell.write(data);
        else early += data;
      },
      setDimensions: (d) => void shell?.resize(d),
    };
    const terminal = vscode.window.createTerminal({
      name: `KLong sandbox (${id})`,
      pty,
      iconPath: new vscode.ThemeIcon('vm'),
    });
    this.terminals.push({ terminal, output: () => shown });
    terminal.show();
    return terminal;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
