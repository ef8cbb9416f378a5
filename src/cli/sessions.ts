/** `klong sessions`: the sessions of a state folder, or --prune of their idle containers. */
import { defaultStateDir, labelOptions, parseCommandArgs } from './args';
import { CliError, type CliIO } from './reproduce';

const SESSIONS_USAGE = `Usage: klong sessions [--json] [--state-dir D] [--prune [--label K=V]...]

Lists the sessions in the state directory, newest first: id, status, steps, cost, paper, workspace.
A session whose engine is running shows "running"; one whose driver went away shows "interrupted".
--json prints one JSON array (the same fields, with "engine": "running" | "none").
--prune removes the containers of this state folder's sessions that are not running (a session's
files and step history stay in its folder; a resume creates a new container); --label limits it to
containers with that label.`;

export async function sessionsCommand(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs('sessions', SESSIONS_USAGE, args, {
    'state-dir': { type: 'string' },
    json: { type: 'boolean' },
    prune: { type: 'boolean' },
    label: { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out.write(`${SESSIONS_USAGE}\n`);
    return 0;
  }
  if (values.label && !values.prune) throw new CliError('klong sessions: --label goes with --prune.');
  if (values.prune) {
    const { pruneContainers } = await import('../engine/containers');
    const r = await pruneContainers({
      stateDir: values['state-dir'] ?? defaultStateDir(),
      labels: labelOptions(values.label),
    });
    for (const c of r.removed) io.out.write(`removed ${c.name} (session ${c.sessionId})\n`);
    for (const c of r.kept) io.out.write(`kept    ${c.name} (session ${c.sessionId}): ${c.why}\n`);
    io.out.write(`${r.removed.length} container(s) removed, ${r.kept.length} kept.\n`);
    return 0;
  }
  const { SessionStore } = await import('../session');
  const store = new SessionStore(values['state-dir'] ?? defaultStateDir());
  const list = store.list().map((s) => ({
    ...s,
    engine: s.lock === 'held' ? ('running' as const) : ('none' as const),
  }));
  if (values.json) {
    io.out.write(`${JSON.stringify(list, null, 2)}\n`);
    return 0;
  }
  if (!list.length) io.out.write('No sessions.\n');
  for (const s of list) {
    const status = s.interrupted ? 'interrupted' : s.status;
    io.out.write(
      `${s.id}  ${status.padEnd(11)} step ${s.steps}  $${s.costUsd.toFixed(2)}  ${s.paperTitle}  (${s.workspace})\n`,
    );
  }
  return 0;
}
