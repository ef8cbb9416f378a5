/**
 * Live work: what a session is doing right now that is not (yet) an event: a running command's
 * output, a model retry's wait, grading progress. These messages are transient (never in the event
 * log; the command's output is in its tool_result once it ends) and bounded on every side: a
 * running command's output is a tail of at most LIVE_TAIL_LINES lines / LIVE_TAIL_CHARS characters,
 * sent at most every LIVE_INTERVAL_MS, whatever the command prints.
 */

/** The call id of the final reproduce.sh run (in its tool_result, and its live output). */
export const FINAL_CALL_ID = 'final-reproduction';

export const LIVE_TAIL_CHARS = 64 * 1024;
export const LIVE_TAIL_LINES = 200;
/** At most 4 updates a second per running command. */
export const LIVE_INTERVAL_MS = 250;

export type LiveMessage =
  | {
      kind: 'output';
      /** The tool call's id (FINAL_CALL_ID for the final reproduce.sh run). */
      callId: string;
      step: number;
      /** The tail of the output so far: characters [start, end) of everything the command printed. */
      text: string;
      start: number;
      end: number;
      /** The command ended: this is its last update (its tool_result follows). */
      done: boolean;
    }
  | {
      kind: 'retry';
      /** The attempt that comes after the wait, of `of` attempts in all. */
      attempt: number;
      of: number;
      reason: string;
      delayMs: number;
      /** Epoch ms when the wait ends (clients count down to it). */
      until: number;
    }
  | { kind: 'grading'; done: number; total: number };

export type LiveSink = (m: LiveMessage) => void;

/** The last lines of a stream of text, in bounded memory. */
export class LiveTail {
  private buf = '';
  /** Characters pushed in all. */
  total = 0;

  constructor(
    private readonly maxChars = LIVE_TAIL_CHARS,
    private readonly maxLines = LIVE_TAIL_LINES,
  ) {}

  push(chunk: string): void {
    if (!chunk) return;
    this.total += chunk.length;
    const joined = chunk.length >= this.maxChars ? chunk.slice(-this.maxChars) : this.buf + chunk;
    this.buf = joined.length > this.maxChars ? joined.slice(-this.maxChars) : joined;
    // Keep the last maxLines lines (a trailing newline ends a line, it does not start one).
    let i = this.buf.length - (this.buf.endsWith('\n') ? 1 : 0);
    for (let n = 0; n < this.maxLines; n++) {
      if (i <= 0) return;
      i = this.buf.lastIndexOf('\n', i - 1);
      if (i < 0) return;
    }
    this.buf = this.buf.slice(i + 1);
  }

  get text(): string {
    return this.buf;
  }

  /** Offset of the tail's first character in the whole stream. */
  get start(): number {
    return this.total - this.buf.length;
  }
}

export interface ThrottleClock {
  now(): number;
  /** Run `f` after `ms`; returns a cancel function. */
  later(f: () => void, ms: number): () => void;
}

export const realClock: ThrottleClock = {
  now: () => Date.now(),
  later: (f, ms) => {
    const t = setTimeout(f, ms);
    t.unref?.();
    return () => clearTimeout(t);
  },
};

/**
 * A running command's output as throttled live messages: the first chunk goes out at once, later
 * ones at most every `intervalMs` (the latest tail, never a backlog); `end()` sends the last update.
 */
export class LiveOutput {
  private readonly tail: LiveTail;
  private lastSent = -Infinity;
  private sentEnd = 0;
  private cancel: (() => void) | undefined;
  private ended = false;

  constructor(
    private readonly id: { callId: string; step: number },
    private readonly sink: LiveSink,
    private readonly opts: {
      intervalMs?: number;
      clock?: ThrottleClock;
      maxChars?: number;
      maxLines?: number;
    } = {},
  ) {
    this.tail = new LiveTail(opts.maxChars, opts.maxLines);
  }

  /** Feed output as it arrives. */
  readonly push = (chunk: string): void => {
    if (this.ended || !chunk) return;
    this.tail.push(chunk);
    if (this.cancel) return; // an update is already scheduled: it sends the latest tail
    const clock = this.opts.clock ?? realClock;
    const wait = this.lastSent + (this.opts.intervalMs ?? LIVE_INTERVAL_MS) - clock.now();
    if (wait <= 0) this.send(false);
    else
      this.cancel = clock.later(() => {
        this.cancel = undefined;
        this.send(false);
      }, wait);
  };

  /** The command ended: the last update, if it printed anything. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.cancel?.();
    this.cancel = undefined;
    if (this.tail.total > 0) this.send(true);
  }

  private send(done: boolean): void {
    if (!done && this.tail.total === this.sentEnd) return;
    this.lastSent = (this.opts.clock ?? realClock).now();
    this.sentEnd = this.tail.total;
    this.sink({
      kind: 'output',
      callId: this.id.callId,
      step: this.id.step,
      text: this.tail.text,
      start: this.tail.start,
      end: this.tail.total,
      done,
    });
  }
}

// CSI and OSC escape sequences (colours, cursor moves, titles): not text a view can show.
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/** One line of output as a terminal would show it: the text after the last carriage return, no escapes. */
export function displayLine(line: string): string {
  const noEsc = line.replace(ANSI, '');
  const body = noEsc.endsWith('\r') ? noEsc.slice(0, -1) : noEsc;
  const cr = body.lastIndexOf('\r');
  return cr >= 0 ? body.slice(cr + 1) : body;
}

/** Output text as lines a view can show (progress bars redrawn with \r show their last state). */
export function displayLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map(displayLine);
}

/** The last line with something on it (for a one-line summary of a running command). */
export function lastLine(text: string): string {
  const lines = displayLines(text);
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!.trim()) return lines[i]!.trim();
  return '';
}

/** "retrying in 12 s, attempt 2 of 7 (429 rate limited)", counting down to `until`. */
export function retryText(
  m: { attempt: number; of: number; reason: string; until: number },
  now: number,
  withReason = true,
): string {
  const s = Math.max(0, Math.ceil((m.until - now) / 1000));
  return `${s > 0 ? `retrying in ${s} s` : 'retrying now'}, attempt ${m.attempt} of ${m.of}${withReason ? ` (${m.reason})` : ''}`;
}

export function gradingText(m: { done: number; total: number }): string {
  return `grading ${m.done} of ${m.total} leaves`;
}
