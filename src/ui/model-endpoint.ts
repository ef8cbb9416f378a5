/**
 * The model endpoint's API key and the connection test. Keys are kept in secret storage per endpoint
 * origin (src/llm/endpoint-origin.ts): a key saved for one server is sent to another only after the
 * user says so. KLONG_API_KEY from the environment VS Code was started in is used for whatever
 * endpoint is configured (as in the CLI); `klong.model.baseUrl` is machine-scoped, so a workspace
 * cannot point it elsewhere.
 */
import * as vscode from 'vscode';
import {
  endpointOrigin,
  keySecretName,
  LEGACY_KEY_SECRET,
  migrateLegacyKey,
  planApiKey,
  withOrigin,
} from '../llm/endpoint-origin';
import { notifyError, requireTrust } from './notify';
import { endpointSettings } from './run-settings';

/** Origins with a stored key (secret storage cannot list its keys); not secret. */
const ORIGINS = 'klong.apiKeyOrigins';

/** A modal where the host allows one, else a notification (VS Code under test refuses modals). */
/** A question as a notification (not a modal dialog: it must not block the window while a session runs). */
function ask(message: string, detail: string, ...buttons: string[]): Thenable<string | undefined> {
  return vscode.window.showWarningMessage(`${message} ${detail}`, ...buttons);
}

export class ModelEndpoint {
  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly state: vscode.Memento,
  ) {}

  /** The configured endpoint's origin, or undefined after telling the user the URL is unusable. */
  private origin(): string | undefined {
    try {
      return endpointOrigin(endpointSettings().baseUrl);
    } catch (err) {
      void notifyError((err as Error).message, { settings: 'klong.model.baseUrl', log: false });
      return undefined;
    }
  }

  private origins(): string[] {
    return this.state.get<string[]>(ORIGINS, []);
  }

  private async store(origin: string, key: string): Promise<void> {
    await this.secrets.store(keySecretName(origin), key);
    await this.state.update(ORIGINS, withOrigin(this.origins(), origin, true));
  }

  /** An earlier version's single key becomes the key of the origin configured now. */
  private async migrate(origin: string): Promise<void> {
    const legacy = await this.secrets.get(LEGACY_KEY_SECRET);
    if (legacy === undefined) return;
    const plan = migrateLegacyKey(legacy, origin, await this.secrets.get(keySecretName(origin)));
    if (plan.store) await this.store(plan.store.origin, plan.store.key);
    if (plan.removeLegacy) await this.secrets.delete(LEGACY_KEY_SECRET);
  }

  /**
   * The key for the configured endpoint: the one stored for its origin, else KLONG_API_KEY; asks
   * when there is neither (before sending a key stored for another origin). Undefined = dismissed.
   */
  async apiKey(): Promise<string | undefined> {
    const origin = this.origin();
    if (!origin) return undefined;
    await this.migrate(origin);
    const plan = planApiKey({
      origin,
      stored: await this.secrets.get(keySecretName(origin)),
      env: process.env.KLONG_API_KEY,
      originsWithKeys: this.origins(),
    });
    if (plan.kind === 'use') return plan.key;
    if (plan.kind === 'ask') return this.askApiKey(false);
    const enter = 'Enter a key';
    const sends = plan.others.slice(0, 2).map((o) => `Send the key of ${o}`);
    const pick = await ask(
      `KLong has no API key for ${origin}.`,
      `Your stored key is for ${plan.others.join(', ')}. KLong sends a key only to the server it was saved for, unless you choose to send it here.`,
      enter,
      ...sends,
    );
    if (pick === enter) return this.askApiKey(false);
    const other = pick ? plan.others[sends.indexOf(pick)] : undefined;
    if (!other) return undefined;
    const key = await this.secrets.get(keySecretName(other));
    if (key === undefined) return this.askApiKey(false);
    await this.store(origin, key);
    return key;
  }

  /** Whether the configured endpoint has a key: stored for its origin, or KLONG_API_KEY (quiet: no prompt). */
  async hasKey(): Promise<boolean> {
    let origin: string;
    try {
      origin = endpointOrigin(endpointSettings().baseUrl);
    } catch {
      return false;
    }
    await this.migrate(origin);
    return (await this.secrets.get(keySecretName(origin))) !== undefined || !!process.env.KLONG_API_KEY;
  }

  /** Asks for the configured origin's key and stores it; `explicit` (the Set API key command) then offers a connection test. */
  async askApiKey(explicit: boolean): Promise<string | undefined> {
    const origin = this.origin();
    if (!origin) return undefined;
    const key = await vscode.window.showInputBox({
      title: `KLong: API key for ${origin}`,
      prompt: `Stored in VS Code secret storage for ${origin} only; it never enters the container, logs or webviews. Leave empty for local servers without a key.`,
      password: true,
      ignoreFocusOut: true,
    });
    if (key === undefined) return undefined;
    await this.store(origin, key);
    if (explicit)
      void vscode.window
        .showInformationMessage(`KLong: API key saved for ${origin}.`, 'Test connection')
        .then((c) => {
          if (c) void this.testConnection();
        });
    return key;
  }

  async testConnection(): Promise<void> {
    // The key goes to the configured server: not from a window whose folder the user has not trusted.
    const untrusted =
      'KLong: Test model connection sends your API key, so it only runs in a trusted workspace. Trust this folder first, or test from another window.';
    if (!(await requireTrust(untrusted))) return;
    const { baseUrl, name: model } = endpointSettings();
    const apiKey = await this.apiKey();
    if (apiKey === undefined) return;
    const { OpenAIModelClient } = await import('../engine/extension-api');
    const client = new OpenAIModelClient({
      baseURL: baseUrl,
      apiKey,
      model,
      maxRetries: 1,
      stallTimeoutMs: 30_000,
    });
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `KLong: testing ${model} at ${baseUrl}…` },
      async () => {
        try {
          await client.chat({ messages: [{ role: 'user', content: 'Reply with OK.' }], tools: [] });
          void vscode.window.showInformationMessage(`KLong: ${model} at ${baseUrl} answered.`);
        } catch (err) {
          void notifyError(`Model connection failed: ${(err as Error).message}`, {
            settings: 'klong.model',
            retry: () => this.testConnection(),
          });
        }
      },
    );
  }
}
