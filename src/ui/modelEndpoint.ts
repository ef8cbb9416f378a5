/** The model endpoint's API key (secret storage, the environment, or asked once) and the connection test. */
import * as vscode from 'vscode';
import { notifyError } from './notify';
import { endpointSettings } from './runSettings';

const SECRET = 'klong.apiKey';

export class ModelEndpoint {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  /**
   * The key from secret storage, else KLONG_API_KEY from the environment VS Code was started in;
   * asks once when there is neither (empty is fine for local servers).
   */
  async apiKey(): Promise<string | undefined> {
    const stored = await this.secrets.get(SECRET);
    if (stored !== undefined) return stored;
    if (process.env.KLONG_API_KEY !== undefined) return process.env.KLONG_API_KEY;
    return this.askApiKey(false);
  }

  /** Asks for the key and stores it; `explicit` (the Set API key command) then offers a connection test. */
  async askApiKey(explicit: boolean): Promise<string | undefined> {
    const key = await vscode.window.showInputBox({
      title: 'KLong: API key of the model endpoint',
      prompt:
        'Stored in VS Code secret storage; it never enters the container, logs or webviews. Leave empty for local servers without a key.',
      password: true,
      ignoreFocusOut: true,
    });
    if (key === undefined) return undefined;
    await this.secrets.store(SECRET, key);
    if (explicit)
      void vscode.window.showInformationMessage('KLong: API key saved.', 'Test connection').then((c) => {
        if (c) void this.testConnection();
      });
    return key;
  }

  async testConnection(): Promise<void> {
    const { baseUrl, name: model } = endpointSettings();
    const apiKey = await this.apiKey();
    if (apiKey === undefined) return;
    const { OpenAIModelClient } = await import('../engine/lazy');
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
