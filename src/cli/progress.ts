/**
 * The CLI's one-line progress display: step, stage, active time / budget, tokens, cost and what
 * the agent is doing. Rewritten in place on a terminal; one line per step otherwise (logs, CI).
 */
import { formatDuration } from '../agent/budget';
import {
  displayLines,
  FINAL_CALL_ID,
  gradingText,
  type LiveMessage,
  lastLine,
  retryText,
} from '../agent/live';
import { parseArgumentsText } from '../agent/tools/args';
import type { AgentEventBody, Stage } from '../events/events';
import { addUsage, noTokens, type TokenTotals } from '../session';
import { paintMessage } from './colour';

/** Lines of a running command's output printed per update (the rest is counted, not shown). */
export const CLI_LIVE_LINES = 40;
const CLI_LINE_MAX = 400;

export interface ProgressOut {
  write(s: string): void;
  isTTY?: boolean;
  columns?: number;
}

export class ProgressLine {
  private step = 0;
  private stage: Stage = 'understand';
  /** Estimated ones (the endpoint reported none) are shown with "~". */
  private readonly tokens: TokenTotals = noTokens();
  private usd = 0;
  private doing = 'starting';
  private lastPrinted = '';
  /** Per running command: how far its output has been printed (characters of the whole output). */
  private readonly printed = new Map<string, number>();
  private retry: Extract<LiveMessage, { kind: 'retry' }> | undefined;
  /** The running command's latest line (a progress bar redrawn with \r has no newline to print it). */
  private outputLine = '';
  private ticker: NodeJS.Timeout | undefined;
  /** Job names by id (from job_started), for the job lines. */
  private readonly jobNames = new Map<string, string>();

  constructor(
    private readonly out: ProgressOut,
    private readonly budgetMs: number,
    private readonly activeMs: () => number,
    totals?: {
      promptTokens: number;
      cachedTokens: number;
      completionTokens: number;
      usd: number;
      estimated?: boolean;
    },
  ) {
    if (totals) {
      this.tokens.estimated = totals.estimated === true;
      this.tokens.prompt = totals.promptTokens;
      this.tokens.cached = totals.cachedTokens;
      this.tokens.completion = totals.completionTokens;
      this.usd = totals.usd;
    }
  }

  /** Feed every event; prints when something worth showing changed. */
  onEvent(e: AgentEventBody): void {
    switch (e.type) {
      case 'early_end_check': {
        const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
        const tops = e.tops.map((t) => `${pct(t.score)} ${t.requirements.slice(0, 40)}`).join(' · ');
        this.doing = `early-end check ${e.check}/${e.limit}: ${pct(e.score)} of the rubric (target ${pct(e.target)}), ${e.refused ? `${e.unmet} unmet, going on` : 'end accepted'}`;
        // The per-requirement scores on a line of their own (too long for the progress line).
        this.message(
          `early-end check ${e.check}/${e.limit} at ${pct(e.budgetUsed)} of the budget: score ${pct(e.score)}${e.invalid ? ` (${e.invalid} not judged)` : ''} — ${tops}`,
        );
        return;
      }
      case 'stage':
        this.stage = e.stage;
        break;
      case 'model_request':
        this.step = e.step;
        this.doing = 'thinking';
        break;
      case 'model_response':
        this.stopRetry();
        addUsage(this.tokens, e.usage);
        this.usd += e.costUsd;
        break;
      case 'tool_call':
        this.doing = describeCall(e.name, e.args);
        this.outputLine = '';
        break;
      case 'split':
        this.doing = `context window ${e.window + 1}`;
        break;
      case 'status':
        if (e.status !== 'running') this.doing = `${e.status}${e.reason ? `: ${e.reason}` : ''}`;
        break;
      case 'error':
        this.message(`${e.fatal ? 'error' : 'warning'}: ${e.message}`);
        return;
      case 'end':
        this.doing = `ended (${e.reason})`;
        break;
      case 'final_run_started':
        this.doing = 'final run: reproduce.sh';
        break;
      case 'final_run':
        this.doing = `final run: ${e.ran ? `exit ${e.exitCode ?? 'none (time limit)'}` : 'no reproduce.sh'}`;
        break;
      case 'job_started':
        this.jobNames.set(e.jobId, e.name);
        this.message(
          `job ${this.jobLabel(e.jobId)} started: ${e.command.replace(/\s+/g, ' ').slice(0, 100)}`,
        );
        return;
      case 'job_ended': {
        if (e.name) this.jobNames.set(e.jobId, e.name);
        const how =
          e.state === 'exited'
            ? `exited with code ${e.exitCode}`
            : e.state === 'stopped'
              ? 'stopped'
              : 'lost (its process or container was gone)';
        const took = e.durationMs !== undefined ? ` after ${formatDuration(e.durationMs)}` : '';
        const last = e.tail?.split('\n').filter(Boolean).pop();
        this.message(`job ${this.jobLabel(e.jobId)} ${how}${took}${last ? ` · ${last.slice(0, 100)}` : ''}`);
        return;
      }
      case 'grade_leaf':
        this.doing = gradingText(e);
        break;
      case 'tool_result':
        this.printed.delete(e.callId);
        this.outputLine = '';
        return;
      default:
        return;
    }
    this.render(
      e.type === 'tool_call' ||
        e.type === 'end' ||
        e.type === 'status' ||
        e.type === 'final_run_started' ||
        e.type === 'final_run',
    );
  }

  /**
   * Live work: a running command's new output lines above the progress line (at most CLI_LIVE_LINES
   * per update), a retry's countdown, grading progress.
   */
  live(m: LiveMessage): void {
    if (m.kind === 'grading') {
      this.stopRetry(); // a verdict came: the request it waited for went through
      this.doing = gradingText(m);
      this.render(m.done === 1 || m.done === m.total || m.done % 10 === 0);
      return;
    }
    if (m.kind === 'retry') {
      this.retry = m;
      this.message(`model request failed: ${retryText(m, Date.now())}`);
      // On a terminal the line counts down; elsewhere the message above says it once.
      if (this.out.isTTY && !this.ticker) {
        this.ticker = setInterval(() => {
          if (!this.retry || Date.now() > this.retry.until + 1000) this.stopRetry();
          this.render(false);
        }, 1000);
        this.ticker.unref?.();
      }
      return;
    }
    const prev = this.printed.get(m.callId) ?? 0;
    const from = Math.max(prev, m.start);
    const skipped = from > prev; // the tail moved past what was printed (or this client came late)
    let text = m.text.slice(from - m.start);
    // Whole lines only, until the command ends (its last partial line comes with the last update).
    const cut = m.done ? text.length : text.lastIndexOf('\n') + 1;
    text = text.slice(0, cut);
    if (m.done) this.printed.delete(m.callId);
    else this.printed.set(m.callId, from + cut);
    this.outputLine = m.done ? '' : lastLine(m.text);
    if (!text && !skipped) {
      this.render(false); // on a terminal the line shows the latest output
      return;
    }
    const prefix = m.callId === FINAL_CALL_ID ? 'reproduce.sh: ' : '  │ ';
    let lines = displayLines(text);
    const notes: string[] = [];
    if (skipped) notes.push(`${prefix}[… earlier output not shown …]`);
    if (lines.length > CLI_LIVE_LINES) {
      notes.push(`${prefix}[… ${lines.length - CLI_LIVE_LINES} lines not shown …]`);
      lines = lines.slice(-CLI_LIVE_LINES);
    }
    const body = [
      ...notes,
      ...lines.map((l) => `${prefix}${l.length > CLI_LINE_MAX ? `${l.slice(0, CLI_LINE_MAX - 1)}…` : l}`),
    ];
    // Output is not progress: off a terminal no progress line is repeated after it.
    if (this.out.isTTY) this.message(body.join('\n'));
    else this.out.write(`${body.join('\n')}\n`);
  }

  private stopRetry(): void {
    this.retry = undefined;
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  private jobLabel(id: string): string {
    const name = this.jobNames.get(id);
    return name && name !== id ? `${id} (${name})` : id;
  }

  line(): string {
    const { prompt, cached, completion, estimated } = this.tokens;
    const tokens = prompt + completion;
    const cachedPct = prompt ? Math.round((100 * cached) / prompt) : 0;
    const doing =
      this.retry && Date.now() < this.retry.until
        ? retryText(this.retry, Date.now())
        : this.outputLine && this.out.isTTY
          ? `${this.doing} › ${this.outputLine}`
          : this.doing;
    return `step ${this.step} · ${this.stage} · ${formatDuration(this.activeMs())} / ${formatDuration(this.budgetMs)} · ${estimated ? '~' : ''}${compact(tokens)} tok (${cachedPct}% cached) · $${this.usd.toFixed(2)} · ${doing}`;
  }

  /** A message on its own line, keeping the progress line below it. */
  message(text: string): void {
    const line = paintMessage(this.out, text);
    if (this.out.isTTY) this.out.write(`\r\x1b[2K${line}\n`);
    else this.out.write(`${line}\n`);
    this.lastPrinted = '';
    this.render(true);
  }

  /** Leave the progress line and move to a new line (before exiting). */
  done(): void {
    this.stopRetry();
    if (this.out.isTTY && this.lastPrinted) this.out.write('\n');
    this.lastPrinted = '';
  }

  private render(force: boolean): void {
    const l = this.line();
    if (this.out.isTTY) {
      const width = Math.max(20, (this.out.columns ?? 120) - 1);
      this.out.write(`\r\x1b[2K${l.length > width ? `${l.slice(0, width - 1)}…` : l}`);
      this.lastPrinted = l;
    } else if (force && l !== this.lastPrinted) {
      this.out.write(`${l}\n`);
      this.lastPrinted = l;
    }
  }
}

export function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

function describeCall(name: string, args: string): string {
  const r = parseArgumentsText(args);
  // malformed arguments: the tool result will say so
  const a = (r.ok && typeof r.value === 'object' && r.value ? r.value : {}) as Record<string, unknown>;
  const detail = a.command ?? a.path ?? a.section ?? a.query ?? a.pattern;
  if (typeof detail === 'string') return `${name}: ${detail.replace(/\s+/g, ' ').slice(0, 80)}`;
  return name;
}
