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
import { openLinkSchema } from './links';

/** Largest Markdown paper the panel takes (a long paper is ~200 KB). */
export const MARKDOWN_MAX = 8 * 1024 * 1024;
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
  /** URI of the PDF or Markdown file (what the serializer reloads). */
  uri: string().check(minLength(1)),
  /** The URL or arXiv id the paper came from (reloaded from the download cache instead of `uri`). */
  source: optional(string().check(minLength(1))),
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
    source: optional(string().check(minLength(1))),
    sections: array(outlineSectionSchema),
    page: optional(pageNo()),
    zoom: optional(zoom()),
  }),
  /** A Markdown paper: rendered in the webview (no HTML passes through; math stays as written). */
  object({
    type: literal('paper/markdown'),
    uri: string().check(minLength(1)),
    source: optional(string().check(minLength(1))),
    title: string(),
    markdown: string().check(maxLength(MARKDOWN_MAX)),
    sections: array(outlineSectionSchema),
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
  openLinkSchema,
  object({
    type: literal('log'),
    level: literal(['info', 'warn', 'error']),
    message: string().check(maxLength(4000)),
  }),
]);
export type FromPaper = zm.infer<typeof fromPaperSchema>;
