/** The extension's test API (returned by activate() in extension mode Test) and event helpers. */
import * as vscode from 'vscode';
import type { AgentEvent, AgentEventBody } from '../../../src/events/events';
import type { KlongUi } from '../../../src/ui/register';

export async function klong(): Promise<KlongUi> {
  const ext = vscode.extensions.getExtension<{ ui: KlongUi } | undefined>('klong-dev.klong');
  if (!ext) throw new Error('extension klong-dev.klong is not loaded');
  const api = await ext.activate();
  if (!api) throw new Error('the extension returned no test API (is it running in extension mode Test?)');
  return api.ui;
}

/** Stamps event bodies with seq and ts, as the session log does. */
export class EventFeed {
  private seq = 0;
  constructor(
    private readonly ui: KlongUi,
    private ts = Date.now(),
  ) {}
  make(body: AgentEventBody, dtMs = 1000): AgentEvent {
    this.ts += dtMs;
    return { ...body, seq: this.seq++, ts: this.ts } as AgentEvent;
  }
  push(...bodies: AgentEventBody[]): void {
    this.ui.session.applyAll(bodies.map((b) => this.make(b)));
  }
}

/** Settings for a session against the scripted model server at `baseUrl` (network none, review mode). */
export async function useScriptedModel(baseUrl: string | undefined): Promise<void> {
  const c = vscode.workspace.getConfiguration('klong');
  const g = vscode.ConfigurationTarget.Global;
  await c.update('model.baseUrl', baseUrl, g);
  await c.update('model.name', 'scripted', g);
  await c.update('docker.network', 'none', g);
  await c.update('edits.approvalMode', 'review', g);
  await c.update('session.timeBudget', '2h', g);
}
