/**
 * "KLong: Reproduce this paper" and the session controls: the VS Code front end of the engine's
 * Reproduction (src/engine). One session per window at a time; its events feed the progress view,
 * its proposals the edits controller.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { raiseSpendCap } from '../agent/budget';
import { retryText } from '../agent/live';
import { fromUser } from '../agent/prompt';
import type { DecideFn, UserFiles } from '../edits';
import type { Answer, Question } from '../engine/control';
import type { NewSession, Reproduction, RunSettings } from '../engine/reproduction';
import { spawnEngine } from '../sandbox/child-env';
import {
  appendInbox,
  newSessionId,
  readControlInfo,
  readFrom,
  type SessionListEntry,
  SessionStore,
} from '../session';
import { openJobLog, refreshJobTails } from './job-logs';
import { EngineLink } from './model/engine-link';
import { RemoteQueue } from './model/remote-queue';
import { gradesOf } from './model/rubric-view';
import { ModelEndpoint } from './model-endpoint';
import { notifyError, requireTrust } from './notify';
import { pickPaper } from './paper-picker';
import type { KlongUi } from './register';
import { runSettings } from './run-settings';
import { engineDriven } from './sessions-view';
import type { SessionRoots } from './state-dir';

/** Requirements in a rubric tree. Not src/paper/rubric's countLeaves: importing it would put zod into the activation bundle. */
function leafCount(n: { sub_tasks: unknown[] }): number {
  const subs = n.sub_tasks as { sub_tasks: unknown[] }[];
  return subs.length ? subs.reduce((a, c) => a + leafCount(c), 0) : 1;
}

/** An AbortSignal that follows a progress notification's Cancel button. */
function abortOn(token: vscode.CancellationToken): AbortSignal {
  const ctrl = new AbortController();
  if (token.isCancellationRequested) ctrl.abort();
  else token.onCancellationRequested(() => ctrl.abort());
  return ctrl.signal;
}

/** The edits controller's queue hooks, in the shape the engine's RunHooks take. */
function editHooks(ui: KlongUi): { userFiles: UserFiles; decide?: DecideFn } {
  const h = ui.edits.queueHooks();
  return { userFiles: h.user, ...(h.decide ? { decide: h.decide } : {}) };
}
const FINISHED = new Set(['done', 'failed', 'stopped']);

export class ReproduceController implements vscode.Disposable {
  private current: Reproduction | undefined;
  /** A session an engine process drives, followed over its control channel. */
  private followed: EngineLink | undefined;
  private starting = false;
  /** The session folder of a detached engine this window started and does not follow yet. */
  private startingDir: string | undefined;
  private ending: Promise<void> | undefined;
  private readonly endpoint: ModelEndpoint;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly ui: KlongUi,
    private readonly roots: SessionRoots,
  ) {
    this.endpoint = new ModelEndpoint(context.secrets, context.globalState);
  }

  /** The shared session folder (klong.stateDir), where new sessions go. */
  private get stateDir(): string {
    return this.roots.primary;
  }

  get running(): Reproduction | undefined {
    return this.current;
  }

  /** The engine-driven session this window follows, if any. */
  get following(): EngineLink | undefined {
    return this.followed?.isOpen ? this.followed : undefined;
  }

  /**
   * Follow the session in `dir` that an engine process drives: its log, then live events, in the
   * progress view; pause/resume/stop and messages go to the engine. False when no engine answers.
   */
  async follow(dir: string, announceRubric = false): Promise<boolean> {
    if (this.current) return false;
    if (this.followed?.isOpen && this.followed.dir === dir) {
      void this.ui.progress.reveal();
      return true;
    }
    this.unfollow();
    const { ui } = this;
    const link = await EngineLink.follow(dir, ui.session, {
      onMessage: (m) => (m.level === 'warning' ? ui.log.warn(m.text) : ui.log.info(m.text)),
      onWarning: (m) => ui.log.warn(m),
      onClosed: (l, ended) => this.engineGone(l, ended),
      onAsk: (q) => this.answer(q),
      onEvent: (e) => this.remote?.onEvent(e),
    }).catch((err: unknown) => {
      ui.log.warn(`Could not follow the session in ${dir}: ${(err as Error).message}`);
      return undefined;
    });
    if (!link) {
      ui.log.warn(`No engine answered for the session in ${dir}.`);
      return false;
    }
    this.followed = link;
    // Its proposals live in the engine: decisions go over the channel, the engine writes the files.
    this.remote = new RemoteQueue(link, 'review', (m) => ui.log.warn(m));
    await this.remote.refresh();
    ui.edits.setQueue(this.remote);
    // The container's network, as the engine was told it (run.json: what a resume needs).
    try {
      const saved = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { network?: unknown };
      if (typeof saved.network === 'string') ui.session.setNetwork(saved.network);
    } catch {
      // not written yet (the engine is still starting)
    }
    ui.log.info(
      `Following session ${link.sessionId} (its engine runs on its own; closing VS Code does not stop it).`,
    );
    // The paper panel once the progress view has loaded: two webviews created at the same moment can
    // leave one blank in a browser-hosted VS Code (code-server, Codespaces).
    void ui.progress
      .reveal()
      .then(() => ui.progress.whenReady(10_000))
      .then(() => this.showFollowed(link, announceRubric))
      .catch((err: unknown) =>
        ui.log.warn(`The paper panel could not open the paper: ${(err as Error).message}`),
      );
    return true;
  }

  /** The followed engine's proposals, reviewed here as in-host ones are. */
  private remote: RemoteQueue | undefined;

  /**
   * The paper panel and rubric of a followed session, as for one this window runs: from its folder
   * (run.json, the paper cache, a generated rubric.json). A rubric the engine still writes is waited
   * for while the window follows it; `announce` (this window started it): say so, as in-host.
   */
  private async showFollowed(link: EngineLink, announce: boolean): Promise<void> {
    const { ui } = this;
    const saved = readSavedRun(link.dir);
    if (!saved) return;
    const engine = await import('../engine/extension-api');
    const paper = await engine.loadPaper(saved.paper, {
      cacheDir: join(dirname(link.dir), 'cache', 'papers'),
    });
    if (this.followed !== link) return;
    await ui.paper.show({
      source: paper.pdfFile ?? paper.source,
      title: paper.title,
      sections: paper.sections,
    });
    let run = saved;
    while (run.generateRubric && !run.rubric && this.followed === link && link.isOpen) {
      await new Promise((r) => setTimeout(r, 1000));
      run = readSavedRun(link.dir) ?? run;
    }
    if (!run.rubric || this.followed !== link) return;
    const rubric = JSON.parse(readFileSync(run.rubric, 'utf8')) as Parameters<typeof ui.session.setRubric>[0];
    ui.session.setRubric(rubric);
    if (announce && saved.generateRubric && rubric && run.rubric.startsWith(link.dir))
      void vscode.window
        .showInformationMessage(
          `KLong wrote a grading rubric from the paper (${leafCount(rubric)} requirements). Edit its JSON any time before the end; grading reads it then.`,
          'Review rubric',
        )
        .then((c) => (c ? this.openRubric() : undefined));
  }

  /** Stop following (the engine goes on). */
  unfollow(): void {
    const l = this.followed;
    this.followed = undefined;
    this.dropRemote();
    l?.dispose();
  }

  private dropRemote(): void {
    if (this.remote) this.ui.edits.releaseQueue(this.remote);
    this.remote = undefined;
  }

  /** What the followed engine asks the user. Throws when the user leaves it unanswered. */
  private async answer(q: Question): Promise<Answer> {
    if (q.kind === 'spendCap') {
      const more = await vscode.window.showWarningMessage(
        `KLong paused: ${q.reason}`,
        { modal: true },
        `Allow $10 more (cap $${q.nextCapUsd.toFixed(2)})`,
        'Stop',
      );
      if (more?.startsWith('Allow')) this.ui.session.setSpendCap(q.nextCapUsd);
      return { yes: !!more?.startsWith('Allow') };
    }
    // As in-host: the proposal's diff opens and the user decides there (Escape leaves it for review).
    await this.remote?.refresh();
    if (this.remote?.get(q.path)) {
      const d = await this.ui.edits.askAbout(q.path);
      if (!d) throw new Error('left for review');
      return d.decision === 'accept'
        ? { yes: true }
        : { yes: false, ...(d.reason ? { reason: d.reason } : {}) };
    }
    const shield = q.sensitive ? ` ⚠ ${q.sensitive}.` : '';
    const pick = await vscode.window.showInformationMessage(
      `KLong: the agent changed ${q.path} (${q.change}, ${q.summary}).${shield} Apply it to your file?`,
      'Accept',
      'Reject',
    );
    if (!pick) throw new Error('left for review');
    if (pick === 'Accept') return { yes: true };
    const reason = await vscode.window.showInputBox({
      title: `KLong: why reject ${q.path}? (optional, the agent reads it)`,
      ignoreFocusOut: true,
    });
    return { yes: false, ...(reason ? { reason } : {}) };
  }

  /** The followed engine closed its channel: it ended the session, or it died (offered for resume). */
  private engineGone(link: EngineLink, ended: boolean): void {
    if (this.followed !== link) return;
    this.followed = undefined;
    this.dropRemote();
    // What the engine wrote after its last event we saw (its last step's flush) shows too.
    const { ui } = this;
    if (ended) {
      ui.log.info(`The engine of session ${link.sessionId} ended the session.`);
      return;
    }
    const tail = readTail(join(link.dir, 'engine.log'), 0).trim().split('\n').slice(-5).join('\n');
    ui.log.warn(
      `The engine of session ${link.sessionId} stopped without ending the session. The end of its engine.log:\n${tail}`,
    );
    // It stopped the session for a reason the user must fix (a rejected key, the spend cap, …): say it,
    // as for a session in this window. Otherwise (killed, crashed, interrupted) it is offered for resume.
    const s = ui.session.snapshot;
    if (
      s.session?.id === link.sessionId &&
      s.status === 'stopped' &&
      s.statusReason &&
      s.statusReason !== 'interrupted'
    ) {
      void notifyError(
        `Session stopped: ${s.statusReason.replace(/\.$/, '')}. It can be resumed (KLong: Resume session).`,
        {
          retry: () => this.resumeById(link.sessionId),
          settings: 'klong.model',
        },
      );
      return;
    }
    setTimeout(() => void this.offerResume(), 1500); // its lock goes stale once the pid is gone
  }

  register(): vscode.Disposable[] {
    return [
      vscode.commands.registerCommand('klong.reproducePaper', (uri?: vscode.Uri) => this.reproduce(uri)),
      vscode.commands.registerCommand('klong.pauseSession', () => this.control('pause')),
      vscode.commands.registerCommand('klong.resumeSession', (id?: string) =>
        typeof id === 'string' ? this.resumeById(id) : this.control('resume'),
      ),
      vscode.commands.registerCommand('klong.stopSession', () => this.control('stop')),
      vscode.commands.registerCommand('klong.messageAgent', (text?: string) => this.messageAgent(text)),
      vscode.commands.registerCommand('klong.setApiKey', () => this.endpoint.askApiKey(true)),
      vscode.commands.registerCommand('klong.testConnection', () => this.endpoint.testConnection()),
      vscode.commands.registerCommand('klong.openRubric', () => this.openRubric()),
      vscode.commands.registerCommand('klong.openJobLog', (id?: string) =>
        openJobLog(this.current?.sandbox, this.ui.session, typeof id === 'string' ? id : undefined),
      ),
      vscode.commands.registerCommand('klong.cleanupContainers', () => this.cleanupContainers()),
      // From the palette (no argument), with a session id, or from a Sessions view item ({ id }).
      vscode.commands.registerCommand('klong.openReport', (arg?: string | { id?: unknown }) =>
        this.openReport(typeof arg === 'string' ? arg : typeof arg?.id === 'string' ? arg.id : undefined),
      ),
    ];
  }

  private dockerHost(): string | undefined {
    return vscode.workspace.getConfiguration('klong').get<string>('docker.host') || undefined;
  }

  /**
   * A deleted, discarded or replaced session's container goes too (its GPUs and memory with it).
   * In the background: the session's files are already gone, and Docker may be slow or down.
   */
  private removeContainerOf(id: string): void {
    void import('../engine/extension-api')
      .then((m) => m.removeSessionContainer(id, this.dockerHost()))
      .then((n) => n && this.ui.log.info(`Removed the container of session ${id}.`))
      .catch((err: unknown) =>
        this.ui.log.warn(`Could not remove the container of session ${id}: ${(err as Error).message}`),
      );
  }

  /** "KLong: Clean up containers": every container of a session that is not running. */
  private async cleanupContainers(): Promise<void> {
    try {
      const { pruneContainers } = await import('../engine/extension-api');
      const host = this.dockerHost();
      const r = await pruneContainers({ stateDir: this.stateDir, ...(host ? { dockerHost: host } : {}) });
      for (const c of r.removed) this.ui.log.info(`Removed container ${c.name} (session ${c.sessionId}).`);
      const kept = r.kept.length ? ` Kept ${r.kept.length} of running sessions.` : '';
      void vscode.window.showInformationMessage(
        r.removed.length
          ? `KLong: removed ${r.removed.length} container(s) of sessions that are not running.${kept} Their history stays; a resume creates a new container.`
          : `KLong: no container to clean up.${kept}`,
      );
    } catch (err) {
      void notifyError(`Could not clean up containers: ${(err as Error).message}`, {
        settings: 'klong.docker',
      });
    }
  }

  /**
   * On activation: a session of this workspace that an engine drives is followed at once (no
   * prompt); one that was interrupted (its engine or window gone) is offered for resume.
   */
  async offerResume(): Promise<void> {
    if (this.current || this.following) return;
    const live = this.unfinished(true);
    // The engine may be busy (building the container on a loaded machine): a few tries before giving up.
    for (let i = 1; live && engineDriven(live) && i <= 5; i++) {
      if (await this.follow(live.dir)) return;
      if (this.current || this.following) return;
      this.ui.log.warn(`Could not reach the engine of session ${live.id} yet (try ${i} of 5).`);
      await new Promise((r) => setTimeout(r, 2000 * i));
    }
    const entry = this.unfinished();
    if (!entry || this.current || this.following) return;
    const choice = await vscode.window.showInformationMessage(
      `KLong: the reproduction of "${entry.paperTitle}" was interrupted. Resume it?`,
      'Resume',
      'Discard',
    );
    if (choice === 'Resume') await this.resumeById(entry.id);
    else if (choice === 'Discard') {
      this.storeOf(entry).delete(entry.id);
      this.removeContainerOf(entry.id);
    }
  }

  private storeOf(e: SessionListEntry): SessionStore {
    return new SessionStore(this.roots.rootOf(e.id));
  }

  private folder(): vscode.WorkspaceFolder | undefined {
    return vscode.workspace.workspaceFolders?.[0];
  }

  /**
   * The newest unfinished session of this workspace in any session folder: one nobody drives
   * (resumable), or with `driven` one that a live process drives (finished too: an engine that
   * ended its session serves the decisions on what it still proposes).
   */
  private unfinished(driven = false): SessionListEntry | undefined {
    const folder = this.folder();
    if (!folder) return undefined;
    const all = this.roots
      .all()
      .filter((r) => existsSync(r))
      .flatMap((r) => new SessionStore(r).list());
    return all
      .filter(
        (s) =>
          s.workspace === folder.uri.fsPath &&
          (s.lock === 'held') === driven &&
          (driven || !FINISHED.has(s.status)),
      )
      .sort((a, b) => b.updatedAt - a.updatedAt)[0];
  }

  /** False (and says why) in a workspace the user has not trusted: no agent, no engine starts there. */
  private trusted(): Promise<boolean> {
    return requireTrust(
      'KLong runs an agent and its commands in a container built from this workspace, so it only starts in a trusted workspace.',
    );
  }

  async reproduce(uri?: vscode.Uri): Promise<void> {
    if (!(await this.trusted())) return;
    const folder = this.folder();
    if (!folder) {
      void vscode.window.showErrorMessage(
        'KLong: open the folder to reproduce the paper in first (File → Open Folder).',
      );
      return;
    }
    if (this.current || this.starting || this.following) {
      void vscode.window.showWarningMessage(
        'KLong: a reproduction is already running in this window. Stop it first (KLong: Stop session).',
      );
      return;
    }
    const earlier = this.unfinished();
    if (earlier) {
      const choice = await vscode.window.showWarningMessage(
        `KLong: this workspace has an unfinished reproduction of "${earlier.paperTitle}".`,
        { modal: true },
        'Resume it',
        'Replace it',
      );
      if (choice === 'Resume it') return this.resumeById(earlier.id);
      if (choice !== 'Replace it') return;
      this.storeOf(earlier).delete(earlier.id);
      this.removeContainerOf(earlier.id);
    }
    const paper = uri?.scheme === 'file' ? uri.fsPath : await pickPaper();
    if (!paper) return;
    const rubric = join(folder.uri.fsPath, 'rubric.json');
    await this.start({
      paper,
      workspace: folder.uri.fsPath,
      ...(existsSync(rubric) ? { rubric } : { generateRubric: true }),
    });
  }

  private async resumeById(id: string): Promise<void> {
    if (this.current) {
      void vscode.window.showWarningMessage('KLong: a session is already running in this window.');
      return;
    }
    // Driven by an engine (here or elsewhere): follow it rather than fight over the lock.
    const dir = join(this.roots.rootOf(id), id);
    const held = new SessionStore(this.roots.rootOf(id)).get(id);
    if (held && engineDriven(held) && (await this.follow(dir))) return;
    this.unfollow();
    // A session of an earlier version moves into the shared folder before it is driven again.
    await this.start(id, this.roots.adopt(id));
  }

  private async start(from: NewSession | string, stateDir = this.stateDir): Promise<void> {
    // Every way in (Reproduce, Resume, Retry, a resume offer) ends here: an untrusted folder starts nothing.
    if (!(await this.trusted())) return;
    const settings = await runSettings(stateDir, () => this.endpoint.apiKey());
    if (!settings) return;
    if (vscode.workspace.getConfiguration('klong').get<boolean>('engine.detached', true))
      return this.startDetached(from, settings);
    this.starting = true;
    const { ui } = this;
    let run: Reproduction | undefined;
    let attached = false; // events reach the view once its history is loaded
    try {
      const engine = await import('../engine/extension-api');
      run = await vscode.window.withProgress(
        // Cancel stops opening the sandbox (pulling and building the default image can take minutes).
        { location: vscode.ProgressLocation.Notification, title: 'KLong', cancellable: true },
        (progress, token) =>
          engine.Reproduction.open(settings, from, {
            signal: abortOn(token),
            say: (m) => {
              progress.report({ message: m });
              ui.log.info(m);
            },
            onEvent: (e) => {
              if (attached) ui.session.apply(e);
            },
            onLive: (m) => {
              if (m.kind === 'retry') {
                const text = `Model request failed: ${retryText(m, Date.now())}`;
                ui.log.warn(text);
                if (!attached) progress.report({ message: text }); // still opening (e.g. writing the rubric)
              }
              if (attached) ui.session.live(m);
            },
            onGrade: (g) => ui.session.setGrades(gradesOf(g.root)),
            onWarning: (m) => {
              ui.log.warn(m);
              void vscode.window.showWarningMessage(`KLong: ${m}`);
            },
            onSpendCap: async (reason, totals) => {
              const next = raiseSpendCap(totals, 10);
              const more = await vscode.window.showWarningMessage(
                `KLong paused: ${reason}`,
                { modal: true },
                `Allow $10 more (cap $${next.usd?.toFixed(2)})`,
                'Stop',
              );
              if (!more?.startsWith('Allow')) return undefined;
              ui.session.setSpendCap(next.usd ?? null);
              return next;
            },
            ...editHooks(ui),
          }),
      );
    } catch (err) {
      this.starting = false;
      ui.log.error(String((err as Error).stack ?? err));
      // A session that was created but did not start is retried as a resume, not as a second session.
      const created = (err as { sessionId?: string }).sessionId;
      void notifyError((err as Error).message, {
        retry: () => this.start(created ?? from, stateDir),
        settings: 'klong',
      });
      return;
    }
    this.starting = false;
    this.current = run;
    ui.session.reset();
    ui.session.setNetwork(run.sandbox.info.network);
    ui.session.setSpendCap(settings.spendCapUsd ?? null);
    ui.session.setRubric(run.rubric ?? null);
    // The whole log: a resumed session shows its history (the model keeps row details bounded).
    ui.session.applyAll(run.live.log.iterate(0, run.live.log.count));
    attached = true;
    ui.edits.setQueue(run.queue);
    void ui.progress.reveal();
    // Any source: a file (PDF or Markdown), or the URL the engine downloaded into the paper cache.
    void ui.paper
      .show({
        // A LaTeX paper shows its PDF (downloaded beside the source, or a same-named local one).
        source: run.paper.pdfFile ?? run.paper.source,
        title: run.paper.title,
        sections: run.paper.sections,
      })
      .catch((err: unknown) =>
        ui.log.warn(`The paper panel could not open the paper: ${(err as Error).message}`),
      );
    if (typeof from !== 'string' && run.rubric && run.rubricFile?.startsWith(run.live.dir)) {
      void vscode.window
        .showInformationMessage(
          `KLong wrote a grading rubric from the paper (${leafCount(run.rubric)} requirements). Edit its JSON any time before the end; grading reads it then.`,
          'Review rubric',
        )
        .then((c) => (c ? this.openRubric() : undefined));
    }
    // Messages `klong say` kept for the session while nothing served it (and any it keeps now).
    const { InboxReader } = await import('../engine/extension-api');
    const inbox = new InboxReader(
      run.live.dir,
      () => run.live.log.iterate(0, run.live.log.count),
      (t, id) => run.agent.injectUserMessage(t, id),
    );
    const take = () => {
      try {
        inbox.take();
      } catch (err) {
        ui.log.warn(`Could not read the session's inbox: ${(err as Error).message}`);
      }
    };
    take();
    const poll = setInterval(take, 2000);
    this.ending = this.runToEnd(run).finally(() => clearInterval(poll));
  }

  /**
   * The session in an engine process of its own (`klong reproduce` from this extension's
   * dist/cli.js, detached: its own process group and session, output in the session folder's
   * engine.log), followed over its control channel. The agent goes on when this window closes,
   * reloads or VS Code is killed. The model key reaches the engine in its environment only.
   */
  private async startDetached(from: NewSession | string, settings: RunSettings): Promise<void> {
    const { ui } = this;
    const id = typeof from === 'string' ? from : (from.sessionId ?? newSessionId());
    const dir = join(settings.stateDir, id);
    mkdirSync(dir, { recursive: true });
    const args = [
      join(this.context.extensionPath, 'dist', 'cli.js'),
      'reproduce',
      ...engineArgs(from, id, settings),
    ];
    const logPath = join(dir, 'engine.log');
    const fd = openSync(logPath, 'a');
    const from0 = statSync(logPath).size;
    this.starting = true;
    let child: ReturnType<typeof spawnEngine>;
    try {
      child = spawnEngine(args, fd, {
        execArgv: [],
        env: {
          KLONG_API_KEY: settings.model.apiKey,
          ...(settings.dockerHost ? { DOCKER_HOST: settings.dockerHost } : {}),
        },
      });
    } finally {
      closeSync(fd);
    }
    child.unref();
    let exited: number | null | undefined;
    child.once('exit', (code) => {
      exited = code;
    });
    ui.log.info(`Started the engine of session ${id} (pid ${child.pid}; output in ${logPath}).`);
    this.startingDir = dir;
    const ready = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'KLong', cancellable: false },
      async (progress) => {
        for (;;) {
          const tail = readTail(logPath, from0).trim().split('\n').pop();
          if (tail) progress.report({ message: tail.slice(0, 200) });
          if (exited !== undefined) return false;
          if (readControlInfo(dir)?.pid === child.pid && (await this.follow(dir, typeof from !== 'string')))
            return true;
          await new Promise((r) => setTimeout(r, 250));
        }
      },
    );
    this.starting = false;
    this.startingDir = undefined;
    if (ready) return;
    const out = readTail(logPath, from0).trim();
    ui.log.error(`The engine of session ${id} exited (code ${exited}):\n${out}`);
    // The CLI's own resume hint does not apply here: Retry resumes.
    const last = out
      .split('\n')
      .slice(-3)
      .join(' ')
      .replace(/ ?Fix the cause, then resume it with: klong reproduce .*$/, ' Fix the cause, then Retry.')
      .slice(0, 600);
    void notifyError(`The session did not start: ${last || `the engine exited (code ${exited})`}`, {
      retry: () => this.start(existsSync(join(dir, 'events.jsonl')) ? id : from, settings.stateDir),
      settings: 'klong',
    });
  }

  /** Interrupts the running session (resumable) and waits until it has let go of its log and container. */
  async interrupt(): Promise<string | undefined> {
    const run = this.current;
    if (!run) return undefined;
    run.stop('interrupt');
    await this.ending;
    return run.sessionId;
  }

  /** Resume a session by id in this window (after a rewind, for instance). */
  resume(id: string): Promise<void> {
    return this.resumeById(id);
  }

  /**
   * "Open report": REPRODUCTION.md of a session (the running one, the id given, or this workspace's
   * latest). Pending for review: its diff. Otherwise (accepted, auto-accept, or a CLI session) the file
   * in the workspace, else the copy the session folder always keeps.
   */
  async openReport(id?: string, run: Reproduction | undefined = this.current): Promise<void> {
    const REPORT = 'REPRODUCTION.md';
    const live = run && (!id || run.sessionId === id) ? run : undefined;
    if (live?.queue.get(REPORT)) {
      await vscode.commands.executeCommand('klong.openProposal', REPORT);
      return;
    }
    const folder = this.folder()?.uri.fsPath;
    const byId = (sid: string) => new SessionStore(this.roots.rootOf(sid)).get(sid);
    const entry = id
      ? byId(id)
      : live
        ? byId(live.sessionId)
        : this.roots
            .all()
            .filter((r) => existsSync(r))
            .flatMap((r) => new SessionStore(r).list())
            .filter((s) => s.workspace === folder)
            .sort((a, b) => b.updatedAt - a.updatedAt)[0];
    const candidates = [
      ...(entry?.workspace ? [join(entry.workspace, REPORT)] : folder && !id ? [join(folder, REPORT)] : []),
      ...(entry ? [join(this.storeOf(entry).dirOf(entry.id), REPORT)] : []),
    ];
    const file = candidates.find((f) => existsSync(f));
    if (!file) {
      void vscode.window.showInformationMessage(
        entry
          ? `KLong: the session "${entry.paperTitle}" has no ${REPORT} yet (it is written at the end of a session).`
          : `KLong: no session of this workspace has a ${REPORT} yet.`,
      );
      return;
    }
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false });
  }

  /** The rubric's JSON in an editor: generated ones live in the session folder. */
  private async openRubric(): Promise<void> {
    const followed = this.following;
    const file = this.current?.rubricFile ?? (followed ? readSavedRun(followed.dir)?.rubric : undefined);
    if (!file) {
      void vscode.window.showInformationMessage('KLong: the running session has no rubric.');
      return;
    }
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false });
  }

  private async runToEnd(run: Reproduction): Promise<void> {
    const tails = refreshJobTails(run.sandbox, this.ui.session);
    try {
      const outcome = await run.run();
      const r = outcome.result;
      if (r.status === 'done' && r.reason !== 'stopped') {
        const score = outcome.score !== undefined ? ` Score: ${(outcome.score * 100).toFixed(1)}%.` : '';
        const flagged = outcome.findings
          ? ` ⚠ Flagged for review: ${outcome.findings} blacklist finding(s), listed in the report.`
          : '';
        const open = await vscode.window.showInformationMessage(
          `KLong: the reproduction of "${run.paper.title}" is finished.${score}${flagged} The report is proposed as REPRODUCTION.md.`,
          'Open report',
        );
        if (open) await this.openReport(run.sessionId, run);
      } else if (r.status === 'stopped' && r.reason !== 'interrupted') {
        void notifyError(`Session stopped: ${r.reason}. It can be resumed (KLong: Resume session).`, {
          retry: () => this.resumeById(run.sessionId),
          settings: 'klong.model',
        });
      }
    } catch (err) {
      this.ui.log.error(String((err as Error).stack ?? err));
      void notifyError(`Session failed: ${(err as Error).message}`, {
        retry: () => this.resumeById(run.sessionId),
      });
    } finally {
      tails.dispose();
      // A finished session's container goes once nothing needs it: no edit waiting for a decision
      // (deciding reads the container) and its history safe on the host. klong.docker.keepContainer keeps it.
      const ended = run.live.summary.status === 'done';
      const remove =
        ended &&
        !vscode.workspace.getConfiguration('klong').get<boolean>('docker.keepContainer') &&
        run.queue.list().length === 0 &&
        (await run.saveHistory().catch(() => false));
      await run.dispose();
      if (this.current === run) this.current = undefined;
      if (remove) this.removeContainerOf(run.sessionId);
    }
  }

  private async control(action: 'pause' | 'resume' | 'stop'): Promise<void> {
    const run = this.current;
    const link = this.following;
    if (!run && link) {
      try {
        const s = await (action === 'pause'
          ? link.pause()
          : action === 'resume'
            ? link.resume()
            : link.stop('end'));
        this.ui.log.info(`Session ${s.sessionId}: ${s.state} (engine pid ${s.pid}).`);
      } catch (err) {
        void notifyError(`Could not ${action} the session: ${(err as Error).message}`);
      }
      return;
    }
    if (!run) {
      if (action === 'resume' && this.unfinished()) return this.offerResume();
      void vscode.window.showInformationMessage('No KLong session is running.');
      return;
    }
    if (action === 'pause') run.pause();
    else if (action === 'resume') run.resume();
    else run.stop('end');
  }

  /** A message for the agent, delivered at its next step (never in the middle of a command). */
  private async messageAgent(given?: string): Promise<void> {
    const run = this.current;
    const link = this.following;
    const starting = this.startingDir;
    if (!run && !link && !starting) {
      void vscode.window.showInformationMessage('No KLong session is running in this window.');
      return;
    }
    const text =
      typeof given === 'string'
        ? given
        : await vscode.window.showInputBox({
            title: 'KLong: Message the agent',
            prompt: 'The agent reads it at its next step and it shows in the timeline.',
            placeHolder: 'e.g. Start with the small dataset; skip the ablations for now.',
            ignoreFocusOut: true,
          });
    if (!text?.trim()) return;
    if (run) run.agent.injectUserMessage(fromUser(text));
    // Its engine is still starting: the session folder's inbox keeps it for the agent's first step.
    else if (!link && starting) appendInbox(starting, text.trim());
    else if (link) {
      try {
        await link.say(text.trim());
      } catch (err) {
        void notifyError(`The message did not reach the agent: ${(err as Error).message}`);
        return;
      }
    }
    vscode.window.setStatusBarMessage('$(comment) KLong: message queued for the agent’s next step', 5000);
  }

  async dispose(): Promise<void> {
    this.unfollow();
    const run = this.current;
    if (!run) return;
    run.stop('interrupt');
  }
}

/** The `klong reproduce` arguments of a VS Code session: its settings, never the key. */
export function engineArgs(from: NewSession | string, id: string, s: RunSettings): string[] {
  const a: string[] = [];
  if (typeof from === 'string') a.push('--resume', id);
  else {
    a.push(from.paper, '--workspace', from.workspace, '--session-id', id);
    if (from.rubric) a.push('--rubric', from.rubric);
    else if (!from.generateRubric) a.push('--no-rubric');
    if (from.blacklist) a.push('--blacklist', from.blacklist);
    a.push('--budget', `${Math.max(1, Math.round(s.budgetMs / 60_000))}m`, '--network', s.network);
    if (s.approval) a.push('--approval', s.approval);
    if (s.defaultImage) a.push('--default-image', s.defaultImage);
    if (s.image) a.push('--image', s.image);
  }
  a.push('--state-dir', s.stateDir, '--model', s.model.name, '--base-url', s.model.baseUrl);
  a.push('--context-limit', String(s.model.contextLimit), '--wait-for-client');
  if (s.spendCapUsd) a.push('--spend-cap', String(s.spendCapUsd));
  const p = s.model.prices;
  if (p) a.push('--price', `${p.input},${p.cachedInput},${p.output}`);
  const l = s.limits;
  if (l?.memory !== undefined) a.push('--memory', String(l.memory));
  if (l?.cpus !== undefined) a.push('--cpus', String(l.cpus));
  if (l?.pids !== undefined) a.push('--pids', String(l.pids));
  for (const [k, v] of Object.entries(s.labels ?? {})) a.push('--label', `${k}=${v}`);
  return a;
}

/** A session's run.json (engine/session-files.ts): what the paper panel and the rubric need of it. */
function readSavedRun(dir: string): { paper: string; rubric?: string; generateRubric?: boolean } | undefined {
  try {
    const r = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { paper?: unknown };
    return typeof r.paper === 'string' ? (r as { paper: string }) : undefined;
  } catch {
    return undefined; // not written yet (the engine is still starting)
  }
}

/** What a file got after byte `from` (the engine's output since it was started), at most 64 KB. */
function readTail(path: string, from: number): string {
  try {
    return readFrom(path, from, 65_536).text;
  } catch {
    return '';
  }
}
