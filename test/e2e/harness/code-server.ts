/**
 * Starts code-server (a real VS Code server with a Node extension host) on 127.0.0.1, offline,
 * in its own process group with every state directory under a temporary RUN dir.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const repoRoot = join(__dirname, '..', '..', '..');
export const codeServerEntry = join(repoRoot, '.e2e/code-server/node_modules/code-server/out/node/entry.js');

export function codeServerInstalled(): boolean {
  return existsSync(codeServerEntry);
}

/** KLong's machine-scoped settings a run may set (also written to the machine's settings). */
const MACHINE_SETTINGS = [
  'klong.stateDir',
  'klong.engine.detached',
  'klong.model.baseUrl',
  'klong.docker.host',
];

/** User settings that leave no traffic off loopback and no dialog in the way of the tests. */
export const offlineSettings: Record<string, unknown> = {
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'update.showReleaseNotes': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'workbench.enableExperiments': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'git.autoRepositoryDetection': false,
  'github.gitAuthentication': false,
  'npm.fetchOnlinePackageInfo': false,
  'typescript.disableAutomaticTypeAcquisition': true,
  'typescript.tsserver.web.typeAcquisition.enabled': false,
  'chat.disableAIFeatures': true,
  'workbench.colorTheme': 'Default Dark Modern',
  // VS Code in a browser saves after 1 s by default (desktop: off); the tests of unsaved editors need
  // the desktop behaviour, or a slow step lets auto-save write the user's text behind them.
  'files.autoSave': 'off',
};

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface CodeServer {
  url: string;
  port: number;
  logFile: string;
  /** The server's process group (= its pid): the extension host and watchers are in it. */
  pid: number;
  stop(): Promise<void>;
}

export interface CodeServerOptions {
  runDir: string;
  workspace: string;
  /** Extra environment for the server and so for the extension host (the suite reads it). */
  env: Record<
    string,
    string
  > /** User settings over offlineSettings (e.g. klong.stateDir, read at activation). */;
  settings?: Record<string, unknown>;
}

export function xdgEnv(runDir: string): Record<string, string> {
  return {
    XDG_CONFIG_HOME: join(runDir, 'xdg/config'),
    XDG_DATA_HOME: join(runDir, 'xdg/data'),
    XDG_CACHE_HOME: join(runDir, 'xdg/cache'),
    XDG_RUNTIME_DIR: join(runDir, 'xdg/runtime'),
  };
}

export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  const { runDir } = opts;
  const userData = join(runDir, 'user-data');
  const xdg = xdgEnv(runDir);
  for (const d of [
    join(userData, 'User'),
    join(runDir, 'extensions'),
    join(runDir, 'home'),
    ...Object.values(xdg),
  ])
    mkdirSync(d, { recursive: true, mode: 0o700 });
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    // Sessions in the run dir, never in the user's ~/.klong.
    JSON.stringify(
      { ...offlineSettings, 'klong.stateDir': join(runDir, 'state'), ...opts.settings },
      null,
      2,
    ),
  );
  // code-server is a remote window: machine-scoped settings (klong.stateDir) count from the machine's
  // settings there; once a test writes one (klong.model.baseUrl), those in the user's file are ignored.
  mkdirSync(join(userData, 'Machine'), { recursive: true, mode: 0o700 });
  const machine = Object.fromEntries(
    Object.entries(opts.settings ?? {}).filter(([k]) => MACHINE_SETTINGS.includes(k)),
  );
  writeFileSync(
    join(userData, 'Machine', 'settings.json'),
    JSON.stringify({ 'klong.stateDir': join(runDir, 'state'), ...machine }, null, 2),
  );
  writeFileSync(join(runDir, 'config.yaml'), 'auth: none\ncert: false\n');

  const port = await freePort();
  const logFile = join(runDir, 'code-server.log');
  const log = createWriteStream(logFile);
  const args = [
    codeServerEntry,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    // A run that turns Workspace Trust on (to test an untrusted folder) keeps it.
    ...(opts.settings?.['security.workspace.trust.enabled'] === true ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    '--disable-proxy',
    '--config',
    join(runDir, 'config.yaml'),
    '--user-data-dir',
    userData,
    '--extensions-dir',
    join(runDir, 'extensions'),
    opts.workspace,
  ];
  // detached = setsid: the server and its watcher/extension host share one group we can kill.
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: runDir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ...xdg,
      // Nothing of a test in the user's home (~/.klong, …), whatever the settings say.
      HOME: join(runDir, 'home'),
      EXTENSIONS_GALLERY: '{"serviceUrl":""}',
      VSCODE_PROXY_URI: '',
      ...opts.env,
    },
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited: number | null = null;
  child.on('exit', (code) => {
    exited = code ?? -1;
  });

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited !== null)
      throw new Error(`code-server exited with ${exited} before it was ready; see ${logFile}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`code-server not ready after 30 s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  const stop = async (): Promise<void> => {
    if (exited !== null || child.pid === undefined) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 5000);
    await gone;
    clearTimeout(timer);
    // The watcher may outlive the leader briefly; make sure the whole group is gone.
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // group empty
    }
    log.end();
  };
  return { url, port, logFile, pid: child.pid!, stop };
}
