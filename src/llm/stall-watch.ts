/**
 * The stall timer of one model request: it aborts the request when no byte arrived for a while
 * (re-armed by every chunk) and passes the caller's abort on. Apart from the client because the
 * timing rules are a small piece of their own.
 */

/** No data from the endpoint for too long: a transient failure, retried like a 5xx. */
export class StallError extends Error {}

export class StallWatch {
  private readonly ctrl = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  /** The timer fired (the request was aborted for it, not by the caller). */
  stalled = false;

  constructor(
    private readonly ms: number,
    private readonly outer?: AbortSignal,
  ) {
    outer?.addEventListener('abort', this.onAbort, { once: true });
    this.arm();
  }

  private readonly onAbort = () => this.ctrl.abort(this.outer?.reason);

  /** Aborts on a stall or when the caller aborts. */
  get signal(): AbortSignal {
    return this.ctrl.signal;
  }

  /** Data arrived: start the wait again. */
  arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.stalled = true;
      this.ctrl.abort(new StallError());
    }, this.ms);
  }

  error(): StallError {
    return new StallError(`no data from the endpoint for ${Math.round(this.ms / 1000)} s`);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onAbort);
  }
}
