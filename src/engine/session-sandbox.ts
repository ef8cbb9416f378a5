/** The session's container: opened (or reattached) with the run's settings, and its step history restored. */
import { foldHistory } from '../agent/rewind';
import type { AgentEventBody } from '../events/events';
import { type DockerSandbox, openSandbox, stateLabel } from '../sandbox';
import type { LiveSession } from '../session';
import type { BlacklistWatch } from './blacklist-watch';
import { HistoryKeeper } from './rewind';
import type { SavedRun } from './session-files';
import type { RunHooks, RunSettings } from './settings';

export interface SessionSandboxOptions {
  settings: RunSettings;
  hooks: RunHooks;
  live: LiveSession;
  saved: SavedRun;
  watch: BlacklistWatch;
}

export function openSessionSandbox({
  settings,
  hooks,
  live,
  saved,
  watch,
}: SessionSandboxOptions): Promise<DockerSandbox> {
  return openSandbox({
    workspace: live.summary.workspace,
    sessionId: live.sessionId,
    network: saved.network,
    ...(saved.image ? { image: saved.image } : {}),
    ...(settings.defaultImage ? { defaultImage: settings.defaultImage } : {}),
    ...(settings.gpus ? { gpus: settings.gpus } : {}),
    ...(hooks.signal ? { signal: hooks.signal } : {}),
    ...(settings.dockerHost ? { dockerHost: settings.dockerHost } : {}),
    ...(settings.limits ? { limits: settings.limits } : {}),
    // The state folder's label lets `klong sessions --prune` find this container (and only its own).
    labels: { ...settings.labels, ...stateLabel(settings.stateDir) },
    ...(watch.gitGuard ? { gitGuard: watch.gitGuard } : {}),
    onProgress: (m) => hooks.say(m),
    onWarning: (m) => (hooks.onWarning ? hooks.onWarning(m) : hooks.say(m)),
    secrets: [settings.model.apiKey],
  });
}

export interface HistoryOptions {
  live: LiveSession;
  sandbox: DockerSandbox;
  hooks: RunHooks;
  emit: (e: AgentEventBody) => void;
  resumed: boolean;
}

/** The host's step history (history.git) for the session, in step with its container. */
export async function restoreHistory(o: HistoryOptions): Promise<HistoryKeeper> {
  const keeper = new HistoryKeeper(o.live.dir, o.hooks.onWarning);
  if (o.resumed && !o.sandbox.info.reattached) await rebuild(o, keeper);
  // The root (step 0) and anything a crash kept from the host are sent now, not at the first change.
  else await keeper.mirror(o.sandbox);
  return keeper;
}

/**
 * A resumed session whose container is gone got a new one (the user's files as its baseline):
 * the host history goes into it and its workspace is put back to the last recorded step, so the
 * agent finds its files and the proposals are that step against the user's files.
 */
async function rebuild({ live, sandbox, hooks, emit }: HistoryOptions, keeper: HistoryKeeper): Promise<void> {
  const h = foldHistory(live.log.iterate(0, live.log.durableCount));
  if (h.maxStep === 0) return; // nothing was recorded yet: the new container is the session's start
  let refs: Awaited<ReturnType<DockerSandbox['importHistory']>>;
  try {
    refs = await sandbox.importHistory(keeper.history);
  } catch (err) {
    hooks.onWarning?.(
      `The session's container was gone and its step history could not be restored: ${(err as Error).message}`,
    );
    return;
  }
  if (!refs?.root) {
    const m =
      'The session’s container was gone and this session has no step history on this machine: the new container has your workspace as it is now, without the agent’s earlier files.';
    hooks.onWarning?.(m);
    emit({ type: 'sandbox_recreated', step: h.head, restored: false, message: m });
    return;
  }
  if (!h.code) {
    // The agent had not changed a file yet: the user's files are its workspace as they were.
    const m =
      'The session’s container was gone: created a new one from your workspace (the agent had not changed any file yet).';
    hooks.say(m);
    emit({ type: 'sandbox_recreated', step: 0, restored: true, message: m });
    return;
  }
  // The agent's changes against what the old container had accepted, over the user's files now.
  if (refs.baseline) await sandbox.restoreOnto(refs.baseline, h.code);
  else await sandbox.restoreCommit(h.code);
  let step = 0; // the step whose files these are (the last recorded one, or a rewind's target)
  for (const n of h.steps.values()) if (n.code === h.code && n.step > step) step = n.step;
  const m = `The session’s container was gone: created a new one and restored the agent’s files of step ${step} from the history in the session folder.`;
  hooks.say(m);
  emit({ type: 'sandbox_recreated', step, restored: true, commit: h.code, message: m });
  await keeper.mirror(sandbox);
}
