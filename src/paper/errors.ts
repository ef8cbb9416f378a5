/** A paper, rubric or source that cannot be used, with the file or URL it came from in the message. */
export class PaperError extends Error {
  constructor(
    /** File path or URL the problem is about. */
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
    this.name = 'PaperError';
  }
}
