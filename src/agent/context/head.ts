/**
 * The pinned head of every request: system prompt, then one user message with the task, the paper
 * (whole, or abstract + section index + key sections when it is over the head budget), a rubric
 * summary and the blacklist. Built once per session and stored as text, so it is byte-stable.
 */

import type { TokenCounter } from '../../llm/tokens';
import type { ChatMessage } from '../../llm/types';
import { rubricSummary } from '../../paper/rubric/rubric';
import type { Paper, RubricNode, Section } from '../../paper/types';

export interface HeadInput {
  systemPrompt: string;
  task: string;
  paper: Paper;
  rubric?: RubricNode;
  blacklist?: string[];
  /** Tokens the paper may take in the head (default: 40,000, at most 35% of contextLimit). */
  paperBudget?: number;
  /** The model's context window, to scale the default paper budget for small models. */
  contextLimit?: number;
}

/** Sections most useful for reimplementation, in priority order (matched against titles). */
const KEY_SECTIONS = [
  /method|approach|model|algorithm|framework|architecture|proposed/i,
  /experiment|setup|implementation|training|hyper-?param|detail/i,
  /result|evaluation|ablation/i,
  /introduction|background|preliminar/i,
];

/** The rubric outline in the head: whole when it fits, else cut by depth (about 1,500 tokens). */
const RUBRIC_CHARS = 6_000;

export function buildHead(input: HeadInput, counter: TokenCounter): ChatMessage[] {
  const budget = input.paperBudget ?? Math.min(40_000, Math.floor((input.contextLimit ?? 128_000) * 0.35));
  const parts = [`# Task\n\n${input.task.trim()}`, paperBlock(input.paper, budget, counter)];
  if (input.rubric)
    parts.push(
      `# Rubric (how the reproduction will be graded)\n\n${rubricSummary(input.rubric, RUBRIC_CHARS)}`,
    );
  if (input.blacklist?.length) {
    parts.push(
      `# Blacklist\n\nDo not access or copy from these resources (the paper's official code); the bash tool refuses commands that mention them:\n${input.blacklist.map((b) => `- ${b}`).join('\n')}`,
    );
  }
  return [
    { role: 'system', content: input.systemPrompt.trim() },
    { role: 'user', content: parts.join('\n\n') },
  ];
}

function sectionText(paper: Paper, s: Section): string {
  return paper.markdown.slice(s.start, s.end).trim();
}

function paperBlock(paper: Paper, budget: number, counter: TokenCounter): string {
  const title = `# Paper: ${paper.title}${paper.authors.length ? `\n\n${paper.authors.join(', ')}` : ''}`;
  if (counter.count(paper.markdown) <= budget) return `${title}\n\n${paper.markdown.trim()}`;

  const index = paper.sections
    .map(
      (s) =>
        `${'  '.repeat(Math.max(0, s.level - 1))}- [${s.id}] ${s.title} (~${counter.count(sectionText(paper, s))} tokens)`,
    )
    .join('\n');
  const intro = `${title}\n\nThe paper is too long to show whole. Below: the abstract, the section index, and the key sections. Read any other section with read_paper({"section": "<id>"}) or search it with read_paper({"query": "..."}).\n\n## Abstract\n\n${paper.abstract.trim()}\n\n## Section index\n\n${index}`;
  let left = budget - counter.count(intro);
  const chosen = new Set<Section>();
  // Only leaf-most sections: a parent's range includes its children.
  const leaves = paper.sections.filter((s, i) => {
    const next = paper.sections[i + 1];
    return !(next && next.level > s.level);
  });
  for (const re of KEY_SECTIONS) {
    for (const s of leaves) {
      if (chosen.has(s) || !re.test(s.title)) continue;
      const cost = counter.count(sectionText(paper, s));
      if (cost <= left) {
        chosen.add(s);
        left -= cost;
      }
    }
  }
  const shown = paper.sections
    .filter((s) => chosen.has(s))
    .map((s) => `## [${s.id}] ${s.title}\n\n${sectionText(paper, s)}`);
  const omitted = paper.sections.filter((s) => leaves.includes(s) && !chosen.has(s)).map((s) => s.id);
  return `${intro}\n\n${shown.join('\n\n')}${omitted.length ? `\n\n(Not shown here; use read_paper: ${omitted.join(', ')})` : ''}`;
}
