/**
 * Reading job tools' arguments leniently: ids as "j1", 1, "1", a list or a comma-separated string,
 * and the names models use for them. Apart from the tools so their file holds only what they do.
 */

import * as z from '../../paper/zod';
import { decoded, type JsonSchema, lenientSchema } from './args';

/** "j1", 1, "1", "j1, j2", ["j1", 2] → ["j1", "j2"]; anything else is left for the schema to refuse. */
export function jobIds(v: unknown): unknown {
  const one = (x: unknown) =>
    typeof x === 'number' && Number.isInteger(x)
      ? `j${x}`
      : typeof x === 'string' && /^\s*\d+\s*$/.test(x)
        ? `j${x.trim()}`
        : typeof x === 'string'
          ? x.trim()
          : x;
  const d = decoded('array')(v);
  if (Array.isArray(d)) return d.map(one);
  if (typeof d === 'number') return [one(d)];
  if (typeof d === 'string')
    return d
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(one);
  return d;
}

/** Lenient arguments: the schema's coercions, plus job ids as a string, a number or a list. */
export function jobArgs(params: JsonSchema, aliases: Record<string, string> = {}) {
  return z.pipe(
    z.transform((v: unknown) => {
      const o = decoded('object')(v);
      if (typeof o !== 'object' || o === null || Array.isArray(o)) return o;
      const r = { ...(o as Record<string, unknown>) };
      for (const [from, to] of Object.entries(aliases))
        if (r[to] === undefined && r[from] !== undefined) r[to] = r[from];
      if (r.ids !== undefined && r.ids !== null) r.ids = jobIds(r.ids);
      if (r.id !== undefined && r.id !== null) {
        const ids = jobIds(r.id);
        r.id = Array.isArray(ids) && ids.length === 1 ? ids[0] : r.id;
      }
      return r;
    }),
    lenientSchema({ ...params, type: 'object' }),
  );
}
