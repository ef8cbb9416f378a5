/**
 * Reading a tool call's arguments the way real endpoints send them. Open models and gateways
 * double-encode the JSON, wrap it in markdown fences, append a stray token, send numbers and
 * booleans as strings, or send plan items as plain strings. Where the meaning is clear we accept it
 * (zod pipes derived from the tool's JSON schema); anything else is refused with the expected shape
 * and an example, so the model can call again.
 */
import * as z from '../../paper/zod';

/** The JSON Schema subset the tool specs use. */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  description?: string;
}

export type ArgsText = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * The arguments text as JSON: plain, inside a markdown code fence, double-encoded (a JSON string
 * holding the object), or one object followed by text that is not JSON (a stray `<|call|>`, a
 * closing brace too many). A truncated object or two objects in a row are not guessed at.
 */
export function parseArgumentsText(raw: string): ArgsText {
  let t = raw.trim();
  if (t === '') return { ok: true, value: {} };
  // A markdown fence: drop the opening line, and the closing fence when it ends the text (anything
  // after a closing fence is trailing garbage, handled below; a ``` inside a string is kept).
  if (t.startsWith('```'))
    t = t
      .replace(/^```[\w-]*[ \t]*/, '')
      .replace(/\s*```$/, '')
      .trim();
  let value: unknown;
  try {
    value = JSON.parse(t);
  } catch (err) {
    const head = leadingObject(t);
    if (head === undefined) return { ok: false, error: (err as Error).message };
    const rest = t.slice(head.length).trim();
    if (looksLikeJson(rest))
      return { ok: false, error: 'two JSON values in a row; send one object with all the arguments' };
    value = JSON.parse(head);
  }
  // Double-encoded: "{\"command\": \"ls\"}" (some gateways stringify the arguments twice).
  for (let i = 0; i < 2 && typeof value === 'string' && /^\s*[{[]/.test(value); i++) {
    try {
      value = JSON.parse(value);
    } catch {
      break;
    }
  }
  return { ok: true, value };
}

/** The first complete `{...}` at the start of `t` (strings and escapes respected), if it parses. */
function leadingObject(t: string): string | undefined {
  if (!t.startsWith('{')) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) {
        const head = t.slice(0, i + 1);
        try {
          JSON.parse(head);
          return head;
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}

function looksLikeJson(s: string): boolean {
  if (!/^[{["]/.test(s)) return false;
  try {
    JSON.parse(s);
    return true;
  } catch {
    return leadingObject(s) !== undefined;
  }
}

// ---- values: lenient where the meaning is clear ----

const NUMERIC = /^\s*-?\d+(\.\d+)?([eE][+-]?\d+)?\s*$/;

const numberish = (v: unknown) => (typeof v === 'string' && NUMERIC.test(v) ? Number(v) : v);
const booleanish = (v: unknown) => {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  return s === 'true' ? true : s === 'false' ? false : v;
};
/** An array or object sent as its JSON text. */
export const decoded = (want: 'array' | 'object') => (v: unknown) => {
  if (typeof v !== 'string') return v;
  const r = parseArgumentsText(v);
  if (!r.ok) return v;
  const isArray = Array.isArray(r.value);
  return (want === 'array') === isArray && typeof r.value === 'object' && r.value !== null ? r.value : v;
};

type Schema = z.ZodMiniType;

/** A zod schema for a JSON Schema, with the coercions above. Unknown keys pass through. */
export function lenientSchema(s: JsonSchema): Schema {
  switch (s.type) {
    case 'string': {
      const base = s.enum?.every((e) => typeof e === 'string')
        ? z.enum(s.enum as [string, ...string[]])
        : z.string();
      return base;
    }
    case 'integer':
      return z.pipe(z.transform(numberish), z.int());
    case 'number':
      return z.pipe(z.transform(numberish), z.number().check(z.refine(Number.isFinite)));
    case 'boolean':
      return z.pipe(z.transform(booleanish), z.boolean());
    case 'array':
      return z.pipe(z.transform(decoded('array')), z.array(s.items ? lenientSchema(s.items) : z.unknown()));
    case 'object': {
      const required = new Set(s.required ?? []);
      const shape: Record<string, Schema> = {};
      for (const [k, p] of Object.entries(s.properties ?? {})) {
        shape[k] = required.has(k) ? lenientSchema(p) : z.optional(lenientSchema(p));
      }
      // null for an optional argument means "not given" (several open models send every key).
      const dropNulls = (v: unknown) => {
        const o = decoded('object')(v);
        if (typeof o !== 'object' || o === null || Array.isArray(o)) return o;
        return Object.fromEntries(Object.entries(o).filter(([k, x]) => !(x === null && !required.has(k))));
      };
      return z.pipe(z.transform(dropNulls), z.looseObject(shape));
    }
    default:
      return z.unknown();
  }
}

// ---- describing the expected shape ----

function typeText(s: JsonSchema): string {
  if (s.enum) return s.enum.map((e) => JSON.stringify(e)).join(' | ');
  if (s.type === 'array') return `[${s.items ? typeText(s.items) : 'any'}, …]`;
  if (s.type === 'object') {
    const req = new Set(s.required ?? []);
    const parts = Object.entries(s.properties ?? {}).map(
      ([k, p]) => `"${k}"${req.has(k) ? '' : '?'}: ${typeText(p)}`,
    );
    return `{${parts.join(', ')}}`;
  }
  return s.type ?? 'any';
}

function sample(s: JsonSchema): unknown {
  if (s.enum?.length) return s.enum[0];
  switch (s.type) {
    case 'string':
      return '…';
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return s.items ? [sample(s.items)] : [];
    case 'object':
      return Object.fromEntries((s.required ?? []).map((k) => [k, sample(s.properties?.[k] ?? {})]));
    default:
      return null;
  }
}

/** "Expected arguments: {…} (? = optional). Example: {…}" for a tool's error message. */
export function expectedShape(parameters: JsonSchema, example?: Record<string, unknown>): string {
  return `Expected arguments: ${typeText(parameters)} (? = optional). Example: ${JSON.stringify(example ?? sample(parameters))}`;
}

const ARTICLE: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  int: 'an integer',
  number: 'a number',
  boolean: 'a boolean (true or false)',
  array: 'an array',
  object: 'an object',
};

/** One line per problem, naming the argument: `argument "x" must be an integer`. */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  parameters?: JsonSchema,
): string {
  return issues
    .map((i) => {
      const path = i.path.map(String);
      const name = path.reduce((a, p) => (/^\d+$/.test(p) ? `${a}[${p}]` : a ? `${a}.${p}` : p), '');
      const given = path.reduce<unknown>(
        (o, p) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[p] : undefined),
        input,
      );
      if (i.code === 'invalid_type' && given === undefined)
        return name ? `missing required argument "${name}"` : 'no arguments';
      if (i.code === 'invalid_type') {
        const declared = schemaAt(parameters, path)?.type;
        const want = ARTICLE[declared ?? i.expected] ?? declared ?? i.expected;
        return name ? `argument "${name}" must be ${want}` : `the arguments must be ${want}`;
      }
      if (i.code === 'invalid_value')
        return `argument "${name}" must be one of ${i.values.map((v) => JSON.stringify(v)).join(', ')}`;
      return `argument "${name}": ${i.message.replace(/^Invalid input: /, '')}`;
    })
    .join('; ');
}

/** The declared schema of the value at `path` (array indexes step into `items`). */
function schemaAt(s: JsonSchema | undefined, path: string[]): JsonSchema | undefined {
  for (const p of path) {
    if (!s) return undefined;
    s = /^\d+$/.test(p) && s.type === 'array' ? s.items : s.properties?.[p];
  }
  return s;
}

export type ArgsResult = { ok: true; args: Record<string, unknown> } | { ok: false; problem: string };

const schemas = new WeakMap<object, Schema>();

/** Validate (and coerce) parsed arguments against a schema (built from `parameters` once). */
export function checkArgs(parameters: JsonSchema, value: unknown, schema?: Schema): ArgsResult {
  let s = schema ?? schemas.get(parameters);
  if (!s) {
    s = lenientSchema({ ...parameters, type: 'object' });
    schemas.set(parameters, s);
  }
  const r = z.safeParse(s, value);
  if (r.success) return { ok: true, args: r.data as Record<string, unknown> };
  return { ok: false, problem: describeIssues(r.error.issues, decoded('object')(value), parameters) };
}
