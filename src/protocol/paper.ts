/** Messages between the extension and the paper panel; validated on receipt by both sides. */

import type * as zm from 'zod/mini';
import {
  array,
  custom,
  discriminatedUnion,
  int,
  literal,
  maximum,
  maxLength,
  minimum,
  minLength,
  nullable,
  number,
  object,
  optional,
  string,
} from 'zod/mini';

const zoom = () => number().check(minimum(0.25), maximum(5));
const pageNo = () => int().check(minimum(1));

export const outlineSectionSchema = object({
  id: string().check(minLength(1)),
  title: string(),
  level: int().check(minimum(1), maximum(9)),
});
export type OutlineSection = zm.infer<typeof outlineSectionSchema>;

/** What the webview keeps with setState so a restored panel reopens where the reader was. */
export const paperViewStateSchema = object({
  /** URI of the PDF (what the serializer reloads). */
  uri: string().check(minLength(1)),
  title: string(),
  sections: array(outlineSectionSchema),
  page: pageNo(),
  zoom: zoom(),
});
export type PaperViewState = zm.infer<typeof paperViewStateSchema>;

/** Extension → paper panel. */
export const toPaperSchema = discriminatedUnion('type', [
  object({
    type: literal('paper/load'),
    uri: string().check(minLength(1)),
    title: string(),
    /** The PDF bytes: post a Uint8Array (a Node Buffer arrives as a plain object). */
    data: custom<Uint8Array<ArrayBuffer>>(
      (v) => v instanceof Uint8Array,
      'expected the PDF bytes as a Uint8Array',
    ),
    sections: array(outlineSectionSchema),
    page: optional(pageNo()),
    zoom: optional(zoom()),
  }),
  object({ type: literal('paper/highlight'), sectionId: nullable(string()) }),
  object({ type: literal('paper/error'), message: string() }),
]);
export type ToPaper = zm.infer<typeof toPaperSchema>;

/** Paper panel → extension. */
export const fromPaperSchema = discriminatedUnion('type', [
  object({ type: literal('ready') }),
  object({ type: literal('paper/loaded'), pages: int().check(minimum(0)) }),
  object({ type: literal('paper/page'), page: pageNo(), zoom: zoom() }),
  object({
    type: literal('log'),
    level: literal(['info', 'warn', 'error']),
    message: string().check(maxLength(4000)),
  }),
]);
export type FromPaper = zm.infer<typeof fromPaperSchema>;
