/** Validation on receipt: a message that does not match its schema is dropped and logged. */
import type * as zm from 'zod/mini';

export type LogFn = (message: string) => void;

/** The parsed message, or undefined (after logging why) when it is invalid. */
export function receive<S extends zm.ZodMiniType>(
  schema: S,
  raw: unknown,
  log: LogFn,
  from: string,
): zm.infer<S> | undefined {
  const res = schema.safeParse(raw);
  if (res.success) return res.data as zm.infer<S>;
  const type =
    typeof raw === 'object' && raw !== null && 'type' in raw ? String((raw as { type: unknown }).type) : '?';
  const problems = res.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`)
    .join('; ');
  log(`dropped an invalid message from ${from} (type ${type}): ${problems}`);
  return undefined;
}

/** Keeps the head and the tail of a long text, with a marker of what was cut. */
export function capText(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  const head = Math.floor(max * 0.6);
  const tail = max - head;
  const cut = text.length - head - tail;
  return {
    text: `${text.slice(0, head)}\n… ${cut.toLocaleString('en-US')} characters not shown …\n${text.slice(text.length - tail)}`,
    truncated: true,
  };
}
