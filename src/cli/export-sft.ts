/** `klong export-sft SESSION... --out data.jsonl`: sessions → KLong trajectory-splitting SFT samples. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { exportSft } from '../export/sft';
import { FILES, SessionStore } from '../session';
import { defaultStateDir, numberOption, parseCommandArgs } from './args';
import { CliError, type CliIO } from './reproduce';

export const EXPORT_SFT_USAGE = `Usage: klong export-sft SESSION... --out data.jsonl [options]

SESSION is a session id (in --state-dir) or a session folder. Each session's trajectory is split as
KLong does for SFT: every line keeps the pinned head (system prompt, task, paper) and continues
from the previous line with an overlap of its last K turns; no line exceeds --max-tokens.
Lines are OpenAI chat fine-tuning samples ({messages, tools, metadata}); overlap assistant
messages carry "weight": 0, so each turn is trained on once.

Options:
  --out FILE             Output JSONL (written atomically; required)
  --max-tokens N         Token limit of one line, head and tool specs included (default 32768)
  --overlap K            Turns repeated from the previous line (default 4)
  --drop-failed-tools    Leave out tool calls that failed, with their results
  --state-dir D          Where sessions are kept (default ~/.klong/sessions)`;

export async function exportSftCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs('export-sft', EXPORT_SFT_USAGE, args, {
    out: { type: 'string', short: 'o' },
    'max-tokens': { type: 'string' },
    overlap: { type: 'string' },
    'drop-failed-tools': { type: 'boolean' },
    'state-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  const v = parsed.values;
  if (v.help) {
    io.out.write(`${EXPORT_SFT_USAGE}\n`);
    return 0;
  }
  if (!parsed.positionals.length)
    throw new CliError(`klong export-sft: give at least one session.\n\n${EXPORT_SFT_USAGE}`);
  if (!v.out) throw new CliError('klong export-sft: --out FILE is required (the JSONL to write).');
  const outDir = dirname(resolve(v.out));
  if (!existsSync(outDir))
    throw new CliError(`klong export-sft: the folder ${outDir} for --out does not exist.`);
  const maxTokens = numberOption('max-tokens', v['max-tokens'], { integer: true, min: 1024 }) ?? 32_768;
  const overlapTurns = numberOption('overlap', v.overlap, { integer: true, min: 0 }) ?? 4;
  const store = new SessionStore(resolve(v['state-dir'] ?? defaultStateDir()));
  const dirs = parsed.positionals.map((s) => {
    if (existsSync(join(s, FILES.events))) return resolve(s);
    let dir: string;
    try {
      dir = store.dirOf(s);
    } catch {
      dir = '';
    }
    if (dir && existsSync(join(dir, FILES.events))) return dir;
    throw new CliError(
      `klong export-sft: "${s}" is neither a session folder nor a session id in ${store.root} (see \`klong sessions --state-dir D\`).`,
    );
  });
  let r: ReturnType<typeof exportSft>;
  try {
    r = exportSft(dirs, resolve(v.out), {
      maxTokens,
      overlapTurns,
      dropFailedTools: !!v['drop-failed-tools'],
    });
  } catch (err) {
    throw new CliError(`klong export-sft: ${(err as Error).message}`, 1);
  }
  for (const s of r.sessions) {
    const notes = [
      s.shrunkTurns ? `${s.shrunkTurns} oversized turn(s) cut to fit` : '',
      s.droppedTurns ? `${s.droppedTurns} turn(s) left out (too long even alone)` : '',
      s.droppedCalls ? `${s.droppedCalls} failed tool call(s) dropped` : '',
    ].filter(Boolean);
    io.err.write(
      `${s.sessionId}: ${s.turns} turns → ${s.pieces} line(s), largest ~${s.maxPieceTokens} tokens${s.score !== null ? `, reward ${s.score.toFixed(3)}` : ''}${notes.length ? `; ${notes.join('; ')}` : ''}\n`,
    );
  }
  io.out.write(`Wrote ${r.lines} line(s) from ${r.sessions.length} session(s) to ${resolve(v.out)}\n`);
  return 0;
}
