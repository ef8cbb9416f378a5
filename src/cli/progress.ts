/**
 * The CLI's one-line progress display: step, stage, active time / budget, tokens, cost and what
 * the agent is doing. Rewritten in place on a terminal; one line per step otherwise (logs, CI).
 */
import { formatDuration } from '../agent/budget';
import type { AgentEventBody, Stage } from '../agent/events';
import { parseArgumentsText } from '../agent/tool-args';

export interface ProgressOut {
  write(s: string): void;
  isTTY?: boolean;
  columns?: number;
}

export class ProgressLine {
  private step = 0;
  private stage: Stage = 'understand';
  private prompt = 0;
  private cached = 0;
  private completion = 0;
  private usd = 0;
  /** Some usage was our estimate (the endpoint reported none): shown as "~". */
  private estimated = false;
  private doing = 'starting';
  private lastPrinted = '';

  constructor(
    private readonly out: ProgressOut,
    private readonly budgetMs: number,
    private readonly activeMs: () => number,
    totals?: { promptTokens: number; cachedTokens: number; completionTokens: number; usd: number },
  ) {
    if (totals) {
      this.prompt = totals.promptTokens;
      this.cached = totals.cachedTokens;
      this.completion = totals.completionTokens;
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
        this.prompt += e.usage.promptTokens;
        this.cached += e.usage.cachedTokens;
        this.completion += e.usage.completionTokens;
        this.usd += e.costUsd;
        if (e.usage.estimated) this.estimated = true;
        break;
      case 'tool_call':
        this.doing = describeCall(e.name, e.args);
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
      case 'grade_leaf':
        this.doing = `grading ${e.done}/${e.total}`;
        break;
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

  line(): string {
    const tokens = this.prompt + this.completion;
    const cachedPct = this.prompt ? Math.round((100 * this.cached) / this.prompt) : 0;
    return `step ${this.step} · ${this.stage} · ${formatDuration(this.activeMs())} / ${formatDuration(this.budgetMs)} · ${this.estimated ? '~' : ''}${compact(tokens)} tok (${cachedPct}% cached) · $${this.usd.toFixed(2)} · ${this.doing}`;
  }

  /** A message on its own line, keeping the progress line below it. */
  message(text: string): void {
    if (this.out.isTTY) this.out.write(`\r\x1b[2K${text}\n`);
    else this.out.write(`${text}\n`);
    this.lastPrinted = '';
    this.render(true);
  }

  /** Leave the progress line and move to a new line (before exiting). */
  done(): void {
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

function compact(n: number): string {
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
