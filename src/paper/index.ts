// Paper reading, rubrics, grading and blacklist (Research-Factory in the product). Plain Node; no vscode.
export {
  Blacklist,
  type BlacklistEntry,
  type BlacklistHit,
  type BlacklistMatch,
  BlacklistMonitor,
  type BlacklistSource,
  type LoadBlacklistOptions,
  loadBlacklist,
  normalizeTarget,
  officialRepos,
  parseBlacklistTxt,
  type ScannableEvent,
  scanEventLog,
  scanEvents,
} from './blacklist';
export { type GitGuardFiles, gitGuardFiles, guardMessage, guardTampering } from './blacklist-guard';
export {
  decodeEscapes,
  type Spelling,
  shellView,
  type TextView,
  textViews,
  type Vars,
} from './blacklist-spellings';
export {
  type EarlyEndMessageOptions,
  earlyEndMessage,
  topScores,
  type UnmetLeaf,
  unmetLeaves,
} from './early-end';
export { PaperError } from './errors';
export { type DecidedLeaf, evidenceDecides, type FinalRunEvidence, NOT_JUDGED } from './evidence';
export { type GradeOptions, type GradeResult, gradeSubmission } from './grade';
export {
  AGGREGATED,
  aggregate,
  type GradedNode,
  gradedLeaves,
  gradeTree,
  type JudgeMetadata,
} from './graded';
export {
  buildJudgeMessages,
  DEFAULT_BUDGETS,
  type JudgeBudgets,
  parseJudgeAnswer,
  UNPARSEABLE,
} from './judge';
export { type LatexMarkdown, latexToMarkdown } from './latex';
export { arxivLatexPaper, isLatexSourceName, paperFromLatexPath, unpackSource } from './latex-source';
export { loadPaper, paperFromMarkdown, paperFromPdf } from './paper';
export { createPaperReader, formatIndex, type PaperReader } from './reader';
export { flaggedLine, gradeToJson, renderFindings, renderReport } from './report';
export {
  type ReproductionResult,
  type ReproductionRunner,
  runReproduction,
} from './reproduce';
export {
  countLeaves,
  FINEGRAINED_CATEGORIES,
  formatPath,
  LEAF_CATEGORIES,
  leaves,
  loadRubric,
  nodePath,
  parseRubric,
  RubricError,
  type RubricIssue,
  RubricNodeSchema,
  type RubricStats,
  rubricStats,
  rubricSummary,
  serializeRubric,
  treeIssues,
  treeWarnings,
} from './rubric';
export { checkRubricText, issueLine, type LocatedIssue, type RubricCheck } from './rubric-check';
export { type GeneratedRubric, type GenerateOptions, generateRubric, repairDraft } from './rubric-generate';
export { findSection, PaperIndex, readSection, type SearchHit, searchPaper } from './search';
export { buildSections } from './sections';
export { arxivBase, type FetchOptions, fetchSource, type PaperSource, resolveSource } from './source';
export {
  type FileIndex,
  indexFiles,
  type SubmissionFile,
  selectFiles,
} from './submission';
export type { Paper, RubricNode, Section, TaskCategory } from './types';
