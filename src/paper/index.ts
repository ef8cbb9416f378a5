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
} from './blacklist/blacklist';
export { type GitGuardFiles, gitGuardFiles, guardMessage, guardTampering } from './blacklist/guard';
export {
  decodeEscapes,
  type Spelling,
  shellView,
  type TextView,
  textViews,
  type Vars,
} from './blacklist/spellings';
export { PaperError } from './errors';
export {
  type EarlyEndMessageOptions,
  earlyEndMessage,
  topScores,
  type UnmetLeaf,
  unmetLeaves,
} from './grading/early-end';
export { type DecidedLeaf, evidenceDecides, type FinalRunEvidence, NOT_JUDGED } from './grading/evidence';
export {
  type ReproductionResult,
  type ReproductionRunner,
  runReproduction,
} from './grading/final-run';
export { type GradeOptions, type GradeResult, gradeSubmission } from './grading/grade';
export {
  AGGREGATED,
  aggregate,
  type GradedNode,
  gradedLeaves,
  gradeTree,
  type JudgeMetadata,
} from './grading/graded';
export {
  buildJudgeMessages,
  DEFAULT_BUDGETS,
  type JudgeBudgets,
  parseJudgeAnswer,
  UNPARSEABLE,
} from './grading/judge';
export { flaggedLine, gradeToJson, renderFindings, renderReport } from './grading/report';
export {
  type FileIndex,
  indexFiles,
  type SubmissionFile,
  selectFiles,
} from './grading/submission';
export { type LatexMarkdown, latexToMarkdown } from './latex/document';
export { arxivLatexPaper, isLatexSourceName, paperFromLatexPath, unpackSource } from './latex/source';
export { loadPaper, paperFromMarkdown, paperFromPdf } from './paper';
export { createPaperReader, formatIndex, type PaperReader } from './reader';
export { checkRubricText, issueLine, type LocatedIssue, type RubricCheck } from './rubric/check';
export { type GeneratedRubric, type GenerateOptions, generateRubric, repairDraft } from './rubric/generate';
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
} from './rubric/rubric';
export { findSection, PaperIndex, readSection, type SearchHit, searchPaper } from './search';
export { buildSections } from './sections';
export { arxivBase, type FetchOptions, fetchSource, type PaperSource, resolveSource } from './source';
export type { Paper, RubricNode, Section, TaskCategory } from './types';
