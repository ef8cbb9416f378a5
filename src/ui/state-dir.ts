/**
 * Where sessions live: one folder shared with the `klong` CLI (`--state-dir`), by default
 * ~/.klong/sessions, so that CLI, batch and VS Code sessions are listed and followed alike. Sessions
 * an earlier version kept in the extension's global storage stay listed and openable from there.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import * as vscode from 'vscode';
import { moveSession } from '../session';
import { machineSetting } from './run-settings';

/** The CLI's default `--state-dir`. */
export function defaultSessionsDir(): string {
  return join(homedir(), '.klong', 'sessions');
}

/**
 * `klong.stateDir` (machine-scoped: a cloned repository must not move where sessions, and the
 * engine's control sockets, live): `~` expanded, relative paths against the home folder.
 */
export function stateDirSetting(c = vscode.workspace.getConfiguration('klong')): string {
  const raw = String(machineSetting(c, 'stateDir', '') ?? '').trim();
  if (!raw) return defaultSessionsDir();
  const expanded = raw === '~' ? homedir() : raw.replace(/^~(?=[/\\])/, homedir());
  return isAbsolute(expanded) ? resolve(expanded) : resolve(homedir(), expanded);
}

/** Sessions of versions that kept them in the extension's global storage (listed, never created). */
export function legacySessionsDir(context: vscode.ExtensionContext): string | undefined {
  const dir = join(context.globalStorageUri.fsPath, 'sessions');
  return existsSync(dir) ? dir : undefined;
}

/** The session folders this window knows: the shared one, and the legacy one of earlier versions. */
export class SessionRoots implements vscode.Disposable {
  private current: string;
  private readonly sub: vscode.Disposable;

  constructor(private readonly context: vscode.ExtensionContext) {
    // Read once and on a change of klong.stateDir only: a window whose settings are being written
    // (another klong.* setting updated at the same moment) must not see the folder move under it.
    this.current = stateDirSetting();
    this.sub = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('klong.stateDir')) this.current = stateDirSetting();
    });
  }

  dispose(): void {
    this.sub.dispose();
  }

  /**
   * Where new sessions go (klong.stateDir). A setting read while settings are being written can come
   * back as its default for a moment; a folder the user chose is never dropped for that (a change of
   * klong.stateDir itself, including back to the default, is taken from the change event).
   */
  get primary(): string {
    const fresh = stateDirSetting();
    if (fresh !== defaultSessionsDir()) this.current = fresh;
    return this.current;
  }

  /**
   * Every folder to list, the shared one first; then the CLI's default (when klong.stateDir moved
   * away from it) and the legacy one, so that no session of this machine goes missing.
   */
  all(): string[] {
    const out = [this.primary];
    for (const d of [defaultSessionsDir(), legacySessionsDir(this.context)])
      if (d && existsSync(d) && !out.includes(resolve(d))) out.push(resolve(d));
    return out;
  }

  /** The folder that holds session `id` (the shared one when none does). */
  rootOf(id: string): string {
    return this.all().find((r) => existsSync(join(r, id, 'events.jsonl'))) ?? this.primary;
  }

  /**
   * A legacy session about to be driven again moves into the shared folder, so that the CLI and
   * other windows see it and its engine writes where everything else is. Same disk: one rename;
   * otherwise it stays where it is (and runs from there).
   */
  adopt(id: string): string {
    const from = this.rootOf(id);
    const primary = this.primary;
    if (from === primary) return primary;
    return moveSession(from, primary, id) ? primary : from;
  }
}
