import { join } from 'node:path';
import * as vscode from 'vscode';
import { SessionStore } from '../session';
import { type EditsController, registerEdits } from './edits/controller';
import { ExternalLinks } from './external-links';
import { SessionModel } from './model/session-model';
import { ModelEndpoint } from './model-endpoint';
import { PaperPanels } from './paper-panel';
import { registerPaperText } from './paper-text';
import { ProgressViewProvider } from './progress-view';
import { ReproduceController } from './reproduce-controller';
import { RewindController } from './rewind-controller';
import { dockerHostSetting } from './run-settings';
import { SandboxAccess } from './sandbox-view';
import { registerSessionsView, type SessionsViewProvider } from './sessions-view';
import { SessionRoots } from './state-dir';
import { SessionStatusBar } from './status-bar';
import { Welcome } from './welcome';

/** What the UI offers the wiring (and the e2e tests): feed `session` with AgentEvents. */
export interface KlongUi {
  session: SessionModel;
  progress: ProgressViewProvider;
  paper: PaperPanels;
  statusBar: SessionStatusBar;
  log: vscode.LogOutputChannel;
  /** Proposed edits: attach a session's EditQueue with `edits.setQueue(queue)`. */
  edits: EditsController;
  reproduce?: ReproduceController;
  /** Links clicked in the webviews (tests replace `links.opener`). */
  links?: ExternalLinks;
  /** The Sessions tree view (its `store` is the extension's session store). */
  sessions?: SessionsViewProvider;
  /** Terminal and read-only file view of the session's container. */
  sandbox?: SandboxAccess;
  /** The walkthrough's checks and the state of their context keys. */
  welcome?: Welcome;
}

export function registerUi(context: vscode.ExtensionContext): KlongUi {
  const log = vscode.window.createOutputChannel('KLong', { log: true });
  const session = new SessionModel();
  const roots = new SessionRoots(context);
  const links = new ExternalLinks((m) => log.warn(m));
  const progress = new ProgressViewProvider(context.extensionUri, session, (m) => log.warn(m), links);
  const paper = new PaperPanels(context.extensionUri, (m) => log.warn(m), {
    links,
    // The engine's paper cache in the shared session folder: a paper downloaded once serves both.
    cacheDir: join(roots.primary, 'cache', 'papers'),
  });
  session.onReadSection((id) => paper.highlight(id));
  // Proposed edits: commands from activation; the returned EditsController takes a session's queue (setQueue).
  const edits = registerEdits(context, log);
  const statusBar = new SessionStatusBar(session, edits.status);
  void vscode.commands.executeCommand('setContext', 'klong.sessionState', 'idle');

  const reproduce = new ReproduceController(
    context,
    { session, progress, paper, statusBar, log, edits },
    roots,
  );
  const sessions = registerSessionsView({
    // The shared folder (klong.stateDir), read at each use: a changed setting applies at once.
    get store() {
      return new SessionStore(roots.primary);
    },
    moreRoots: () => roots.all(),
    model: session,
    log,
    drivingHere: () => !!reproduce.running,
    onFollow: (e) => reproduce.follow(e.dir),
    onLeave: () => reproduce.unfollow(),
  });
  const rewind = new RewindController({
    stateDirOf: (id) => roots.rootOf(id),
    session,
    reproduce,
    log,
  });
  const sandbox = new SandboxAccess({
    model: session,
    stateDir: roots.primary,
    dockerHost: () => dockerHostSetting(),
    log,
  });
  const welcome = new Welcome(context, new ModelEndpoint(context.secrets, context.globalState), log);
  context.subscriptions.push(
    sandbox,
    welcome,
    log,
    progress,
    paper,
    statusBar,
    reproduce,
    vscode.window.registerWebviewViewProvider(ProgressViewProvider.viewId, progress),
    ...reproduce.register(),
    vscode.commands.registerCommand('klong.showLog', () => log.show()),
    registerPaperText(context, log),
    sessions,
    roots,
    rewind,
    ...rewind.register(),
  );
  void reproduce.offerResume();
  return {
    session,
    progress,
    paper,
    statusBar,
    log,
    edits,
    reproduce,
    links,
    sessions: sessions.provider,
    sandbox,
    welcome,
  };
}
