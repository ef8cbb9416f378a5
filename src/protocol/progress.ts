/**
 * Messages between the extension and the progress view (activity bar). Both sides validate what
 * they receive with these schemas; the state is pushed as partial updates (only changed keys), the
 * timeline is paged: the view asks for the rows it shows, never for the whole history.
 * zod/mini with named imports: it tree-shakes to ~15 KB in the webview bundle (classic zod: ~450 KB).
 */

import type * as zm from 'zod/mini';
import {
  array,
  boolean,
  discriminatedUnion,
  int,
  lazy,
  literal,
  maximum,
  maxLength,
  minimum,
  minLength,
  nullable,
  number,
  object,
  optional,
  partial,
  refine,
  string,
  type ZodMiniType,
} from 'zod/mini';
import { openLinkSchema } from './links';

/** Largest page of timeline rows one request may ask for. */
export const TIMELINE_PAGE_MAX = 500;
/** Cap of one detail section's text in a message (head and tail are kept). */
export const DETAIL_TEXT_MAX = 64 * 1024;
/** Cap of a running row's latest output line. */
export const LIVE_LINE_MAX = 200;

const count = () => int().check(minimum(0));
const nonneg = () => number().check(minimum(0));
const unit = () => number().check(minimum(0), maximum(1));

export const sessionStatusSchema = literal([
  'idle',
  'starting',
  'running',
  'paused',
  'stopped',
  'done',
  'failed',
]);
export type ViewStatus = zm.infer<typeof sessionStatusSchema>;

export const stageSchema = literal(['understand', 'plan', 'implement', 'run', 'reproduce', 'final-check']);

export const planItemSchema = object({ text: string(), status: literal(['todo', 'doing', 'done']) });

export const proposalViewSchema = object({
  path: string().check(minLength(1)),
  kind: literal(['add', 'modify', 'delete', 'binary']),
  additions: count(),
  deletions: count(),
  status: literal(['pending', 'accepted', 'rejected']),
  step: optional(count()),
  reason: optional(string()),
  /** Why the change needs an explicit accept (it touches what runs on the user's machine). */
  sensitive: optional(string()),
});
export type ProposalView = zm.infer<typeof proposalViewSchema>;

/** Cap of a job's last lines in the state (the whole log opens in an editor). */
export const JOB_TAIL_MAX = 4096;

export const jobViewSchema = object({
  id: string().check(minLength(1), maxLength(64)),
  name: string().check(maxLength(200)),
  command: string().check(maxLength(2000)),
  state: literal(['running', 'exited', 'stopped', 'lost']),
  exitCode: nullable(int()),
  /** Epoch ms: when it started, and when it ended (null while running). */
  startedTs: nonneg(),
  endedTs: nullable(nonneg()),
  /** Its last lines (refreshed while it runs), and its output size when known. */
  tail: string().check(maxLength(JOB_TAIL_MAX)),
  size: optional(nonneg()),
});
export type JobView = zm.infer<typeof jobViewSchema>;

export interface RubricView {
  id: string;
  requirements: string;
  weight: number;
  category: string | null;
  /** 0..1 once graded (leaves 0 or 1; inner nodes the weighted mean). */
  score?: number | null;
  /** The judge's answer could not be used: the leaf is left out of the score. */
  invalid?: boolean;
  explanation?: string;
  children: RubricView[];
}
export const rubricViewSchema: ZodMiniType<RubricView> = lazy(() =>
  object({
    id: string(),
    requirements: string(),
    weight: number(),
    category: nullable(string()),
    score: optional(nullable(unit())),
    invalid: optional(boolean()),
    explanation: optional(string()),
    children: array(rubricViewSchema),
  }),
);

/** One early-end check (an early end_task graded against the rubric). */
export const endCheckViewSchema = object({
  ts: nonneg(),
  check: count(),
  limit: count(),
  budgetUsed: unit(),
  score: unit(),
  target: unit(),
  refused: boolean(),
  unmet: count(),
  invalid: count(),
  tops: array(object({ requirements: string(), weight: number(), score: unit() })),
});
export type EndCheckView = zm.infer<typeof endCheckViewSchema>;

export const progressStateSchema = object({
  session: nullable(
    object({ id: string(), paperTitle: string(), paperPath: string(), model: string(), workspace: string() }),
  ),
  status: sessionStatusSchema,
  statusReason: nullable(string()),
  stage: nullable(stageSchema),
  /** Active time: `activeMs` as of `runningSince` (epoch ms) while running, so the view can tick. */
  budget: object({ totalMs: nonneg(), activeMs: nonneg(), runningSince: nullable(nonneg()) }),
  plan: array(planItemSchema),
  usage: object({
    requests: count(),
    promptTokens: count(),
    cachedTokens: count(),
    completionTokens: count(),
    costUsd: nonneg(),
    spendCapUsd: nullable(nonneg()),
  }),
  network: string(),
  rubric: nullable(rubricViewSchema),
  /** Overall grade 0..1 when graded. */
  grade: nullable(unit()),
  /** Early-end checks, oldest first: the score over time and per top-level requirement. */
  endChecks: array(endCheckViewSchema),
  proposals: array(proposalViewSchema),
  /** The agent's background jobs (job_start), in start order. */
  jobs: array(jobViewSchema),
  timelineTotal: count(),
  step: count(),
  window: count(),
  readingSection: nullable(string()),
  lastError: nullable(string()),
  /** A model request failed and waits to be retried (transient: the view counts down to `until`). */
  retry: nullable(
    object({ attempt: count(), of: count(), reason: string().check(maxLength(500)), until: nonneg() }),
  ),
  /** Grading progress: rubric leaves graded of all. */
  grading: nullable(object({ done: count(), total: count() })),
});
export type ProgressState = zm.infer<typeof progressStateSchema>;

export const timelineKindSchema = literal([
  'session',
  'status',
  'stage',
  'model',
  'tool',
  'user',
  'plan',
  'reminder',
  'split',
  'edit',
  'checkpoint',
  'rewind',
  'error',
  'grade',
  'end',
  'check',
]);
export type TimelineKind = zm.infer<typeof timelineKindSchema>;

export const timelineEntrySchema = object({
  index: count(),
  seq: count(),
  ts: nonneg(),
  kind: timelineKindSchema,
  title: string(),
  step: optional(count()),
  state: literal(['running', 'ok', 'failed', 'info', 'warn']),
  durationMs: optional(nonneg()),
  hasDetail: boolean(),
  /** The row belongs to a step that a rewind left behind (an abandoned branch). */
  abandoned: optional(boolean()),
  /** A running command's latest output line (its output so far is in the row's detail). */
  live: optional(string().check(maxLength(LIVE_LINE_MAX))),
});
export type TimelineEntry = zm.infer<typeof timelineEntrySchema>;

export const detailSectionSchema = object({
  label: string(),
  text: string().check(maxLength(DETAIL_TEXT_MAX + 200)),
  truncated: optional(boolean()),
  /** The text is Markdown (the agent's and the user's messages): the view renders it, sanitised. */
  markdown: optional(boolean()),
});
export type DetailSection = zm.infer<typeof detailSectionSchema>;

/** Extension → progress view. */
export const toProgressSchema = discriminatedUnion('type', [
  object({ type: literal('state'), full: boolean(), state: partial(progressStateSchema) }),
  object({
    type: literal('timeline/entries'),
    total: count(),
    entries: array(timelineEntrySchema).check(maxLength(TIMELINE_PAGE_MAX * 2)),
  }),
  object({ type: literal('timeline/detail'), index: count(), sections: array(detailSectionSchema) }),
]);
export type ToProgress = zm.infer<typeof toProgressSchema>;

export const sessionActionSchema = literal(['pause', 'resume', 'stop']);
/** Longest message to the agent the view sends. */
export const MESSAGE_MAX = 8000;
export const proposalActionSchema = literal(['open', 'accept', 'reject']);

/** Progress view → extension. */
export const fromProgressSchema = discriminatedUnion('type', [
  object({ type: literal('ready') }),
  object({ type: literal('timeline/range'), start: count(), end: count() }).check(
    refine((m) => m.end >= m.start && m.end - m.start <= TIMELINE_PAGE_MAX, {
      message: `end must be >= start and the range at most ${TIMELINE_PAGE_MAX} rows`,
    }),
  ),
  object({ type: literal('timeline/detail'), index: count() }),
  object({ type: literal('proposal'), action: proposalActionSchema, path: string().check(minLength(1)) }),
  object({ type: literal('session'), action: sessionActionSchema }),
  openLinkSchema,
  /** Open a background job's whole log in an editor. */
  object({
    type: literal('job'),
    action: literal(['openLog']),
    id: string().check(minLength(1), maxLength(64)),
  }),
  /** A message for the agent (read at its next step), typed in the view's message box. */
  object({ type: literal('say'), text: string().check(minLength(1), maxLength(MESSAGE_MAX)) }),
  object({
    type: literal('log'),
    level: literal(['info', 'warn', 'error']),
    message: string().check(maxLength(4000)),
  }),
]);
export type FromProgress = zm.infer<typeof fromProgressSchema>;
export type SessionAction = zm.infer<typeof sessionActionSchema>;
export type ProposalAction = zm.infer<typeof proposalActionSchema>;
