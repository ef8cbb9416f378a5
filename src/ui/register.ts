import * as vscode from 'vscode';
import { SessionStore } from '../session';
import { type EditsController, registerEdits } from './editsController';
import { PaperPanels } from './paperPanel';
import { registerPaperText } from './paperText';
import { ProgressViewProvider } from './progressView';
import { ReproduceController } from './reproduce';
import { RewindController } from './rewind';
import { SessionModel } from './sessionModel';
import { registerSessionsView, type SessionsViewProvider } from './sessionsView';
import { SessionRoots } from './stateDir';
import { SessionStatusBar } from './statusBar';

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
  /** The Sessions tree view (its `store` is the extension's session store). */
  sessions?: SessionsViewProvider;
}

export function registerUi(context: vscode.ExtensionContext): KlongUi {
  const log = vscode.window.createOutputChannel('KLong', { log: true });
  const session = new SessionModel();
  const progress = new ProgressViewProvider(context.extensionUri, session, (m) => log.warn(m));
  const paper = new PaperPanels(context.extensionUri, (m) => log.warn(m));
  const statusBar = new SessionStatusBar(session);
  session.onReadSection((id) => paper.highlight(id));
  // Proposed edits: commands from activation; the returned EditsController takes a session's queue (setQueue).
  const edits = registerEdits(context, log);
  void vscode.commands.executeCommand('setContext', 'klong.sessionState', 'idle');

  const roots = new SessionRoots(context);
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
  context.subscriptions.push(
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
  return { session, progress, paper, statusBar, log, edits, reproduce, sessions: sessions.provider };
}
