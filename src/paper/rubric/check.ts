/**
 * A rubric file checked as a user would want before a long run: every error and warning with its
 * JSON path and the line and column in the file (positions from jsonc-parser's syntax tree).
 */
import { findNodeAtLocation, type Node, type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';
import type { RubricNode } from '../types';
import { formatPath, type RubricIssue, RubricNodeSchema, treeIssues } from './rubric';

export interface LocatedIssue extends RubricIssue {
  /** 1-based, of the value at `path` (or of its nearest enclosing value that exists). */
  line: number;
  column: number;
}

export interface RubricCheck {
  /** The rubric when there are no errors. */
  rubric?: RubricNode;
  errors: LocatedIssue[];
  warnings: LocatedIssue[];
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function position(starts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo]! + 1 };
}

/** Checks rubric.json text: syntax, PaperBench's node schema, then the tree rules. */
export function checkRubricText(raw: string): RubricCheck {
  // A byte-order mark (some Windows editors write one) is not an error; a space keeps the offsets.
  const text = raw.charCodeAt(0) === 0xfeff ? ` ${raw.slice(1)}` : raw;
  const starts = lineStarts(text);
  const at = (offset: number) => position(starts, offset);
  const syntax: ParseError[] = [];
  const tree = parseTree(text, syntax, { disallowComments: true, allowTrailingComma: false });
  if (syntax.length || !tree) {
    const errors = syntax.map((e) => ({
      path: [],
      message: `not valid JSON: ${printParseErrorCode(e.error)}`,
      ...at(e.offset),
    }));
    if (!errors.length) errors.push({ path: [], message: 'not valid JSON: the file is empty', ...at(0) });
    return { errors, warnings: [] };
  }
  // A missing field has no node of its own: point at the object that lacks it.
  const locate = (issue: RubricIssue): LocatedIssue => {
    let node: Node | undefined;
    for (let n = issue.path.length; n >= 0 && !node; n--)
      node = findNodeAtLocation(tree, issue.path.slice(0, n));
    return { ...issue, ...at(node?.offset ?? 0) };
  };
  const res = RubricNodeSchema.safeParse(JSON.parse(text));
  if (!res.success) {
    const errors = res.error.issues.map((i) =>
      locate({
        path: i.path.filter((p): p is string | number => typeof p !== 'symbol'),
        message: i.message.replace(/^Invalid input: /, ''),
      }),
    );
    return { errors, warnings: [] };
  }
  const { errors, warnings } = treeIssues(res.data);
  return {
    ...(errors.length ? {} : { rubric: res.data }),
    errors: errors.map(locate),
    warnings: warnings.map(locate),
  };
}

/** "file:12:5: sub_tasks[2].weight: expected int, received string" */
export function issueLine(file: string, i: LocatedIssue): string {
  return `${file}:${i.line}:${i.column}: ${formatPath(i.path)}: ${i.message}`;
}
