/**
 * First run: the walkthrough's steps as commands that check for real and set the context keys the
 * steps complete on (klong.hasApiKey, klong.modelChosen, klong.dockerOk, klong.sandboxReady):
 * pick the model from the endpoint's /models, check Docker, check or pull the sandbox image,
 * reproduce the bundled sample paper.
 */
import * as vscode from 'vscode';
import { describeContext, type ListedModel, listModels } from '../llm/models-list';
import type { ModelEndpoint } from './model-endpoint';
import { notifyError } from './notify';
import { dockerHostSetting, endpointSettings } from './run-settings';

export const WALKTHROUGH_ID = 'klong-dev.klong#klong.gettingStarted';
const MIN_CONTEXT = 8000;

/** The state of each check, as the context keys say it (the e2e test reads it here). */
export interface WelcomeState {
  hasApiKey: boolean;
  modelChosen: boolean;
  dockerOk: boolean;
  sandboxReady: boolean;
}

type PickItem = vscode.QuickPickItem & { model?: ListedModel; manual?: boolean };

export class Welcome implements vscode.Disposable {
  readonly state: WelcomeState = {
    hasApiKey: false,
    modelChosen: false,
    dockerOk: false,
    sandboxReady: false,
  };
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly endpoint: ModelEndpoint,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.commands.registerCommand('klong.pickModel', () => this.pickModel()),
      vscode.commands.registerCommand('klong.checkDocker', () => this.checkDocker()),
      vscode.commands.registerCommand('klong.checkSandbox', () => this.checkSandbox()),
      vscode.commands.registerCommand('klong.reproduceSample', () => this.reproduceSample()),
      vscode.commands.registerCommand('klong.openWalkthrough', () =>
        vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false),
      ),
      context.secrets.onDidChange(() => void this.refreshKey()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('klong.model')) {
          void this.refreshKey();
          this.refreshModel();
        }
      }),
    );
    void this.refreshKey();
    this.refreshModel();
  }

  private set(key: keyof WelcomeState, value: boolean): void {
    this.state[key] = value;
    void vscode.commands.executeCommand('setContext', `klong.${key}`, value);
  }

  async refreshKey(): Promise<void> {
    this.set('hasApiKey', await this.endpoint.hasKey());
  }

  /** A model counts as chosen once the user set one (the default name alone does not). */
  private refreshModel(): void {
    const i = vscode.workspace.getConfiguration('klong').inspect<string>('model.name');
    this.set('modelChosen', i?.globalValue !== undefined || i?.workspaceValue !== undefined);
  }

  /** KLong: Pick the model — the endpoint's /models with their context windows, or a name typed in. */
  async pickModel(): Promise<string | undefined> {
    const { baseUrl, name: current } = endpointSettings();
    const qp = vscode.window.createQuickPick<PickItem>();
    qp.title = `KLong: model at ${baseUrl}`;
    qp.placeholder = 'Loading the endpoint’s models…';
    qp.busy = true;
    qp.ignoreFocusOut = true;
    const manual: PickItem = {
      label: '$(edit) Enter a model name…',
      detail: 'For an endpoint without a model list, or a model it does not list',
      manual: true,
      alwaysShow: true,
    };
    qp.items = [manual];
    qp.show();
    const chosen = new Promise<PickItem | undefined>((resolve) => {
      qp.onDidAccept(() => resolve(qp.selectedItems[0]));
      qp.onDidHide(() => resolve(undefined));
    });
    void this.fetchModels(baseUrl).then(
      (models) => {
        qp.busy = false;
        qp.placeholder = models.length
          ? `${models.length} model(s); the context window shows where the endpoint says it`
          : 'The endpoint lists no model: enter its name';
        const items: PickItem[] = models.map((m) => ({
          label: m.id,
          description: [
            m.contextWindow ? describeContext(m.contextWindow) : '',
            m.id === current ? 'current' : '',
          ]
            .filter(Boolean)
            .join(' · '),
          model: m,
        }));
        qp.items = [...items, { label: '', kind: vscode.QuickPickItemKind.Separator }, manual];
        const now = items.find((i) => i.model?.id === current);
        if (now) qp.activeItems = [now];
      },
      (err: unknown) => {
        qp.busy = false;
        qp.placeholder = 'Enter a model name instead';
        const m = (err as Error).message;
        const hint = /HTTP 40[13]\b/.test(m) ? ' (set the API key first: KLong: Set model API key)' : '';
        qp.items = [{ ...manual, detail: `Could not list the models: ${m}${hint}` }];
        this.log.warn(`Listing models at ${baseUrl}: ${(err as Error).message}`);
      },
    );
    const pick = await chosen;
    qp.dispose();
    if (!pick) return undefined;
    if (pick.manual) return this.enterModel(current);
    await this.saveModel(pick.model!.id, pick.model!.contextWindow);
    return pick.model!.id;
  }

  private async fetchModels(baseUrl: string): Promise<ListedModel[]> {
    if (!vscode.workspace.isTrusted)
      throw new Error('listing models sends your API key, so it needs a trusted workspace');
    // The key of this endpoint only (quiet: no prompt while the list loads; a keyless local server is fine).
    const key = (await this.endpoint.hasKey()) ? await this.endpoint.apiKey() : '';
    return listModels(baseUrl, key ?? '');
  }

  private async enterModel(current: string): Promise<string | undefined> {
    const name = await vscode.window.showInputBox({
      title: 'KLong: model name',
      value: current,
      prompt: 'The name the endpoint knows the model by',
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : 'Enter a model name'),
    });
    if (!name) return undefined;
    const limit = vscode.workspace.getConfiguration('klong').get<number>('model.contextLimit', 128_000);
    const ctx = await vscode.window.showInputBox({
      title: `KLong: context window of ${name.trim()} (tokens)`,
      value: String(limit),
      ignoreFocusOut: true,
      validateInput: (v) =>
        /^\d+$/.test(v.trim()) && Number(v) >= MIN_CONTEXT
          ? undefined
          : `A number of tokens, ${MIN_CONTEXT} or more`,
    });
    if (ctx === undefined) return undefined;
    await this.saveModel(name.trim(), Number(ctx));
    return name.trim();
  }

  private async saveModel(name: string, contextWindow: number | undefined): Promise<void> {
    const c = vscode.workspace.getConfiguration('klong');
    const g = vscode.ConfigurationTarget.Global;
    await c.update('model.name', name, g);
    if (contextWindow && contextWindow >= MIN_CONTEXT) await c.update('model.contextLimit', contextWindow, g);
    this.refreshModel();
    const limit = c.get<number>('model.contextLimit', 128_000);
    void vscode.window.showInformationMessage(
      contextWindow
        ? `KLong: model ${name}, context window ${limit.toLocaleString('en')} tokens.`
        : `KLong: model ${name}. The endpoint does not say its context window: KLong keeps ${limit.toLocaleString('en')} tokens (klong.model.contextLimit).`,
    );
  }

  /** KLong: Check Docker — the engine's version, or the error with what to do. */
  async checkDocker(): Promise<boolean> {
    try {
      const { checkDocker } = await import('../engine/extension-api');
      const info = await checkDocker(dockerHostSetting());
      this.set('dockerOk', true);
      const msg = `KLong: Docker ${info.serverVersion} (API ${info.apiVersion}) at ${info.host}${info.os ? `, ${info.os}` : ''}${info.gpu ? ', GPUs available' : ''}.`;
      this.log.info(msg);
      void vscode.window.showInformationMessage(msg);
      return true;
    } catch (err) {
      this.set('dockerOk', false);
      const e = err as Error & { hint?: string };
      void notifyError(`Docker is not usable: ${e.message}${e.hint ? ` ${e.hint}` : ''}`, {
        retry: () => this.checkDocker(),
        settings: 'klong.docker',
      });
      return false;
    }
  }

  /**
   * KLong: Check the sandbox — the workspace's devcontainer.json, or the default image: a missing
   * offline image is offered as a build of KLong's default sandbox (what the first session would
   * do anyway), a missing custom image as a pull.
   */
  async checkSandbox(): Promise<boolean> {
    const host = dockerHostSetting();
    const image = vscode.workspace.getConfiguration('klong').get<string>('docker.defaultImage') || undefined;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    try {
      const engine = await import('../engine/extension-api');
      const r = await engine.sandboxReadiness(folder, { defaultImage: image, dockerHost: host });
      if (r.kind === 'devcontainer') {
        this.set('sandboxReady', true);
        void vscode.window.showInformationMessage(
          `KLong: this workspace’s sandbox is defined by ${vscode.workspace.asRelativePath(r.configFile)}; it is built when a session starts.`,
        );
        return true;
      }
      if (r.present) {
        this.set('sandboxReady', true);
        void vscode.window.showInformationMessage(
          `KLong: the sandbox image ${r.image} is ready (${(r.sizeBytes / 1e9).toFixed(1)} GB).`,
        );
        return true;
      }
      this.set('sandboxReady', false);
      const how = 'How to build it';
      const get = r.build ? 'Build it now' : `Pull ${r.image}`;
      const choice = await vscode.window.showWarningMessage(
        r.build
          ? `KLong: no devcontainer.json in this workspace and no local image ${r.image}, so the first session builds KLong’s default sandbox ${r.build} (Python 3.12 with numpy, scipy, pandas, matplotlib, scikit-learn; a few minutes, once). Build it now, or add a .devcontainer/devcontainer.json to the workspace.`
          : `KLong: the sandbox image ${r.image} is not on the Docker engine. Pull it from its registry, build it (see the README), or add a .devcontainer/devcontainer.json to the workspace.`,
        get,
        how,
      );
      if (choice === how)
        await vscode.commands.executeCommand(
          'markdown.showPreview',
          vscode.Uri.joinPath(this.context.extensionUri, 'README.md'),
        );
      if (choice !== get) return false;
      await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: r.build ? 'KLong: building the default sandbox' : `KLong: pulling ${r.image}`,
          cancellable: Boolean(r.build),
        },
        async (p, token) => {
          const onProgress = (m: string) => p.report({ message: m });
          if (!r.build) return engine.pullImage(r.image, host, onProgress);
          const ac = new AbortController();
          token.onCancellationRequested(() => ac.abort());
          await engine.buildDefaultSandbox({ dockerHost: host, onProgress, signal: ac.signal });
        },
      );
      return this.checkSandbox();
    } catch (err) {
      this.set('sandboxReady', false);
      const e = err as Error & { hint?: string };
      void notifyError(`Sandbox check failed: ${e.message}${e.hint ? ` ${e.hint}` : ''}`, {
        retry: () => this.checkSandbox(),
        settings: 'klong.docker',
      });
      return false;
    }
  }

  /** KLong: Reproduce the sample paper — a one-page paper shipped with the extension. */
  async reproduceSample(): Promise<void> {
    if (!vscode.workspace.workspaceFolders?.length) {
      const open = 'Open Folder';
      const c = await vscode.window.showInformationMessage(
        'KLong: the sample is reproduced into a folder. Open an empty folder first.',
        open,
      );
      if (c) await vscode.commands.executeCommand('vscode.openFolder');
      return;
    }
    await vscode.commands.executeCommand('klong.reproducePaper', this.sampleUri());
  }

  sampleUri(): vscode.Uri {
    return vscode.Uri.joinPath(this.context.extensionUri, 'media', 'sample-paper.md');
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
