/** How agent events become timeline rows (titles, states) and the detail shown when a row expands. */
import type { AgentEvent, AgentEventBody } from '../../events/events';
import { DETAIL_TEXT_MAX, type DetailSection, type TimelineEntry } from '../../protocol/progress';
import { capText } from '../../protocol/validate';

const TITLE_MAX = 160;

function oneLine(text: string, max = TITLE_MAX): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function parseArgs(args: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(args) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A short description of a tool call: the command for bash, the path for file tools, ... */
export function toolTitle(name: string, args: string): string {
  const a = parseArgs(args);
  const pick = (...keys: string[]) => {
    for (const k of keys) if (a && typeof a[k] === 'string' && a[k]) return a[k] as string;
    return undefined;
  };
  const what =
    name === 'bash' || name === 'job_start'
      ? pick('command', 'cmd')
      : name === 'read_paper'
        ? pick('section', 'query')
        : name === 'search'
          ? pick('query', 'pattern')
          : name === 'update_plan'
            ? 'plan'
            : pick('path', 'file', 'query', 'summary');
  return oneLine(`${name}: ${what ?? (a ? JSON.stringify(a) : args)}`);
}

/** The section id an event says the agent is reading, if any. */
export function readSection(event: AgentEventBody): string | undefined {
  if (event.type !== 'tool_call' || event.name !== 'read_paper') return undefined;
  const a = parseArgs(event.args);
  const s = a?.section ?? a?.id;
  return typeof s === 'string' && s ? s : undefined;
}

type NewEntry = Omit<TimelineEntry, 'index'>;
/** A row without the seq and timestamp every row takes from its event. */
type RowBody = Omit<NewEntry, 'seq' | 'ts'>;

/** The row an event starts, or undefined when it starts none (requests, tool results with a call). */
export function entryFor(e: AgentEvent): NewEntry | undefined {
  const row = lifecycleRow(e) ?? agentRow(e) ?? editRow(e) ?? jobRow(e) ?? gradingRow(e);
  return row && { seq: e.seq, ts: e.ts, ...row };
}

/** The session's life: start, status, stages, rewinds, errors, end. */
function lifecycleRow(e: AgentEvent): RowBody | undefined {
  switch (e.type) {
    case 'session_started':
      return {
        kind: 'session',
        title: oneLine(`Session started: ${e.paperTitle} (${e.model})`),
        state: 'info',
        hasDetail: false,
      };
    case 'status':
      return {
        kind: 'status',
        title: oneLine(`Status: ${e.status}${e.reason ? ` — ${e.reason}` : ''}`),
        state: e.status === 'failed' ? 'failed' : 'info',
        hasDetail: false,
      };
    case 'stage':
      return { kind: 'stage', title: `Stage: ${e.stage}`, state: 'info', hasDetail: false };
    case 'sandbox_recreated':
      return { kind: 'status', step: e.step, title: oneLine(e.message), state: 'warn', hasDetail: false };
    case 'rewind': {
      const what = e.mode === 'both' ? 'code and conversation' : e.mode;
      return {
        kind: 'rewind',
        title: `Rewound ${what} to step ${e.toStep} (from step ${e.fromStep})`,
        state: 'warn',
        hasDetail: false,
      };
    }
    case 'error':
      return {
        kind: 'error',
        title: oneLine(`Error: ${e.message}`),
        state: e.fatal ? 'failed' : 'warn',
        hasDetail: true,
      };
    case 'end':
      return {
        kind: 'end',
        title: oneLine(`Session ended (${e.reason})${e.summary ? `: ${e.summary}` : ''}`),
        state: e.reason === 'error' ? 'failed' : 'info',
        hasDetail: Boolean(e.summary),
      };
    default:
      return undefined;
  }
}

/** What the agent and the user say and do: responses, tool calls, messages, plan, reminders, splits. */
function agentRow(e: AgentEvent): RowBody | undefined {
  switch (e.type) {
    case 'model_response': {
      const m = e.message;
      const text = m.role === 'assistant' ? (m.content ?? '') : '';
      const calls = m.role === 'assistant' ? (m.toolCalls ?? []).map((c) => c.name) : [];
      const title = text.trim()
        ? plainTitle(text)
        : calls.length
          ? `→ ${calls.join(', ')}`
          : '(empty response)';
      return { kind: 'model', step: e.step, title, state: 'ok', hasDetail: true };
    }
    case 'tool_call':
      return {
        kind: 'tool',
        step: e.step,
        title: toolTitle(e.name, e.args),
        state: 'running',
        hasDetail: true,
      };
    case 'tool_result':
      return {
        kind: 'tool',
        step: e.step,
        title: oneLine(`${e.name}: (result)`),
        state: e.ok ? 'ok' : 'failed',
        durationMs: e.durationMs,
        hasDetail: true,
      };
    case 'user_message':
      return { kind: 'user', title: oneLine(`You: ${e.text}`), state: 'info', hasDetail: true };
    case 'plan': {
      const done = e.items.filter((i) => i.status === 'done').length;
      return {
        kind: 'plan',
        title: `Plan updated (${done}/${e.items.length} done)`,
        state: 'info',
        hasDetail: true,
      };
    }
    case 'reminder':
      return { kind: 'reminder', step: e.step, title: oneLine(e.text), state: 'info', hasDetail: false };
    case 'split':
      return {
        kind: 'split',
        step: e.step,
        title: `Context split → window ${e.window} (kept ${e.keptMessages} messages)`,
        state: 'info',
        hasDetail: true,
      };
    default:
      return undefined;
  }
}

/** Event types that start no row of their own (tool results with a call join their call's row). */
const ROWLESS = new Set<string>(['model_request', 'edit_withdrawn', 'grade_leaf']);
/** Every event type entryFor() knows. */
const KNOWN = new Set<string>([
  'session_started',
  'status',
  'stage',
  'sandbox_recreated',
  'rewind',
  'error',
  'end',
  'model_response',
  'tool_call',
  'tool_result',
  'user_message',
  'plan',
  'reminder',
  'split',
  'edit_proposed',
  'edit_decided',
  'approval_changed',
  'checkpoint',
  'job_started',
  'job_ended',
  'final_run_started',
  'final_run',
  'blacklist_finding',
  'early_end_check',
  'grade',
]);

/** Whether entryFor(e) makes a row, without making it (a long log's older rows are counted only). */
export function startsRow(e: AgentEvent): boolean {
  return KNOWN.has(e.type) && !ROWLESS.has(e.type);
}

/** Proposed edits, decisions on them, and the files recorded per step. */
function editRow(e: AgentEvent): RowBody | undefined {
  switch (e.type) {
    case 'edit_proposed': {
      const p = e.proposal;
      return {
        kind: 'edit',
        step: e.step,
        title: oneLine(
          `Proposed ${p.kind}: ${p.path} (+${p.additions} −${p.deletions})${p.sensitive ? ` ⚠ sensitive: ${p.sensitive}` : ''}`,
        ),
        state: p.sensitive ? 'warn' : 'info',
        hasDetail: false,
      };
    }
    case 'edit_decided':
      return {
        kind: 'edit',
        title: oneLine(
          `${e.decision === 'accepted' ? 'Accepted' : 'Rejected'}: ${e.path}${e.reason ? ` — ${e.reason}` : ''}`,
        ),
        state: e.decision === 'accepted' ? 'ok' : 'warn',
        hasDetail: false,
      };
    case 'approval_changed':
      return {
        kind: 'edit',
        title: `Approval mode: ${e.mode} (the agent's next edits ${e.mode === 'auto-accept' ? 'land in your files' : e.mode === 'ask-each' ? 'wait for your answer' : 'wait for your review'})`,
        state: 'info',
        hasDetail: false,
      };
    case 'checkpoint':
      return {
        kind: 'checkpoint',
        step: e.step,
        title: `Files of step ${e.step} recorded${e.commit ? ` (${e.commit.slice(0, 8)})` : ''}`,
        state: 'info',
        hasDetail: false,
      };
    default:
      return undefined;
  }
}

/** Background jobs. */
function jobRow(e: AgentEvent): RowBody | undefined {
  switch (e.type) {
    case 'job_started':
      return {
        kind: 'status',
        step: e.step,
        title: oneLine(`Job ${e.jobId} (${e.name}) started: ${e.command}`),
        state: 'info',
        hasDetail: false,
      };
    case 'job_ended':
      return {
        kind: 'status',
        title: oneLine(
          `Job ${e.jobId}${e.name ? ` (${e.name})` : ''} ${e.state === 'exited' ? `exited with code ${e.exitCode}` : e.state}`,
        ),
        state:
          e.state === 'exited' && e.exitCode === 0
            ? 'ok'
            : e.state === 'lost'
              ? 'warn'
              : e.state === 'stopped'
                ? 'info'
                : 'failed',
        ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}),
        hasDetail: false,
      };
    default:
      return undefined;
  }
}

/** The final run, early-end checks, blacklist findings and the grade. */
function gradingRow(e: AgentEvent): RowBody | undefined {
  switch (e.type) {
    case 'final_run_started':
      return {
        kind: 'tool',
        title: 'Final run: reproduce.sh in a fresh container…',
        state: 'info',
        hasDetail: false,
      };
    case 'final_run':
      return {
        kind: 'tool',
        title: e.ran
          ? `Final run: reproduce.sh ${e.timedOut ? 'stopped at the time limit' : `exited with code ${e.exitCode}`}`
          : 'Final run: the submission has no reproduce.sh',
        state: e.ran && e.exitCode === 0 ? 'ok' : 'failed',
        durationMs: e.durationMs,
        hasDetail: false,
      };
    case 'blacklist_finding':
      return {
        kind: 'error',
        step: e.step,
        title: oneLine(
          `Blacklisted: ${e.repo} in the ${e.where === 'tool_call' ? 'command' : 'output'} of ${e.tool}`,
        ),
        state: 'warn',
        hasDetail: true,
      };
    case 'early_end_check':
      return {
        kind: 'check',
        step: e.step,
        title: `Early-end check ${e.check}/${e.limit}: ${(e.score * 100).toFixed(1)}% of the rubric (target ${(e.target * 100).toFixed(0)}%) — ${e.refused ? `end refused, ${e.unmet} unmet` : 'end accepted'}${e.invalid ? `, ${e.invalid} not judged` : ''}`,
        state: e.refused ? 'warn' : 'ok',
        durationMs: e.durationMs,
        hasDetail: true,
      };
    case 'grade':
      return {
        kind: 'grade',
        title: `Grade: ${(e.score * 100).toFixed(1)}%${e.flagged ? ' — flagged for review (blacklist)' : ''}`,
        state: 'info',
        hasDetail: false,
      };
    default:
      return undefined;
  }
}

function section(label: string, text: string, markdown = false): DetailSection {
  const c = capText(text, DETAIL_TEXT_MAX);
  return {
    label,
    text: c.text,
    ...(c.truncated ? { truncated: true } : {}),
    ...(markdown ? { markdown: true } : {}),
  };
}

/** A row title from a Markdown message: its text without heading marks, emphasis, code ticks or link targets. */
export function plainTitle(markdown: string): string {
  return oneLine(
    markdown
      .replace(/^\s{0,3}(#{1,6}|[-*+]|\d+[.)])\s+/gm, '')
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/(\*\*|__|`+)(.+?)\1/g, '$2'),
  );
}

function prettyArgs(args: string): string {
  const a = parseArgs(args);
  if (!a) return args;
  if (typeof a.command === 'string' && Object.keys(a).length <= 2) return a.command;
  return JSON.stringify(a, null, 2);
}

/** Detail sections of a row from the events that make it up. */
export function detailFor(events: AgentEventBody[]): DetailSection[] {
  const out: DetailSection[] = [];
  for (const e of events) {
    switch (e.type) {
      case 'model_response': {
        const m = e.message;
        if (m.role === 'assistant') {
          const reasoning = e.reasoning ?? m.reasoning;
          if (reasoning) out.push(section('Reasoning', reasoning, true));
          if (m.content) out.push(section('Assistant', m.content, true));
          for (const c of m.toolCalls ?? [])
            out.push(section(`Tool call ${c.name}`, prettyArgs(c.arguments)));
        }
        const u = e.usage;
        out.push(
          section(
            'Usage',
            `${u.estimated ? '~ (estimated: the endpoint reported no usage) ' : ''}prompt ${u.promptTokens} (cached ${u.cachedTokens}), completion ${u.completionTokens}, $${e.costUsd.toFixed(4)}`,
          ),
        );
        break;
      }
      case 'tool_call':
        out.push(section(e.name === 'bash' ? 'Command' : `Arguments (${e.name})`, prettyArgs(e.args)));
        break;
      case 'tool_result':
        out.push(
          section(
            `Output (${e.ok ? 'ok' : 'failed'}, ${(e.durationMs / 1000).toFixed(1)} s)`,
            e.output || '(no output)',
          ),
        );
        break;
      case 'user_message':
        out.push(section('Message', e.text, true));
        break;
      case 'plan':
        out.push(
          section(
            'Plan',
            e.items
              .map((i) => `[${i.status === 'done' ? 'x' : i.status === 'doing' ? '~' : ' '}] ${i.text}`)
              .join('\n'),
          ),
        );
        break;
      case 'split':
        out.push(section('Progress note', e.note, true));
        break;
      case 'error':
        out.push(section(e.fatal ? 'Fatal error' : 'Error', e.message));
        break;
      case 'blacklist_finding':
        out.push(section(`Found (${e.how})`, e.found), section('Command', e.command || '(none)'));
        break;
      case 'end':
        if (e.summary) out.push(section('Summary', e.summary, true));
        break;
      case 'early_end_check':
        out.push(
          section(
            'Score per top-level requirement',
            e.tops
              .map(
                (t) => `${(t.score * 100).toFixed(0).padStart(3)}%  ${t.requirements} (weight ${t.weight})`,
              )
              .join('\n'),
          ),
        );
        if (e.message) out.push(section('Answer to end_task', e.message));
        break;
      default:
        break;
    }
  }
  return out;
}
