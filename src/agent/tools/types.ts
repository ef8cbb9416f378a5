/** Types shared by the tool implementations (kept apart so tools-files.ts does not import tools.ts). */

import type { AgentEventBody, PlanItem } from '../../events/events';
import type { ToolSpec } from '../../llm/types';
import type * as z from '../../paper/zod';
import type { Sandbox } from '../../sandbox/sandbox';
import type { JobRecord } from '../jobs';

/** What read_paper needs from the paper (src/paper's createPaperReader satisfies it). */
export interface PaperReader {
  section(id: string): string | undefined;
  search(query: string): string;
  index(): string;
}

export interface ToolContext {
  /**
   * Paths are resolved with `workspacePath` (relative, or absolute under `sandbox.workdir`; `..`
   * cannot leave the workspace). Refusing symlinks that point outside is the Sandbox's job.
   */
  sandbox: Sandbox;
  paper?: PaperReader;
  /** Returns why a command is refused (e.g. it fetches the paper's official code), or undefined. */
  isBlocked?: (command: string) => string | undefined;
  signal?: AbortSignal;
  /** Default bash timeout (default 10 min); the model may ask for up to `maxBashTimeoutMs`. */
  bashTimeoutMs?: number;
  maxBashTimeoutMs?: number;
  /** Bytes of command output kept (head + tail) for the log (default 256 KiB). */
  outputCap?: number;
  /** A running command's output as it comes (for live views; the result still has all of it). */
  onOutput?: (chunk: string) => void;
  /** The session's background jobs as its events record them (job tools). */
  jobs?: Record<string, JobRecord>;
  /** Where job folders live in the sandbox (default JOBS_DIR; tests on a plain folder set it). */
  jobsDir?: string;
  /** Why a long wait (job_wait) should return now: the user paused the session or sent a message. */
  interrupted?: () => string | undefined;
}

export interface ToolOutcome {
  ok: boolean;
  output: string;
  /** update_plan: the new plan. */
  plan?: PlanItem[];
  /** end_task: the agent says it is done. */
  end?: { summary: string };
  /** Workspace paths this call wrote. */
  wrote?: string[];
  /** Events the call caused (job_started, job_ended), logged after its result. */
  events?: AgentEventBody[];
}

export type Args = Record<string, unknown>;

export interface Tool {
  spec: ToolSpec;
  /** Arguments schema when the one derived from `spec.parameters` is not lenient enough (tool-args.ts). */
  args?: z.ZodMiniType;
  /** Example arguments shown when a call's arguments are refused (default: built from the schema). */
  example?: Args;
  run(args: Args, ctx: ToolContext): Promise<ToolOutcome>;
}

export const fail = (output: string): ToolOutcome => ({ ok: false, output });
