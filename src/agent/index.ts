/** Public API of the agent layer: the loop, its context manager, budget and tools. No `vscode` here. */
export {
  type BudgetConfig,
  type BudgetSnapshot,
  type Clock,
  defaultBudgetConfig,
  defaultStages,
  formatDuration,
  overSpendCap,
  parseDuration,
  type SpendCap,
  type SpendTotals,
  type StageSpec,
  systemClock,
  TimeBudget,
} from './budget';
export {
  type ContextConfig,
  ContextManager,
  ContextOverflowError,
  type ContextSnapshot,
  capText,
  defaultContextConfig,
} from './context';
export type {
  AgentEvent,
  AgentEventBody,
  AgentEventType,
  EventSink,
  PlanItem,
  RewindMode,
  Stage,
} from './events';
export { buildHead, type HeadInput, rubricSummary } from './head';
export { AgentSession } from './loop';
export type { AfterToolInfo, AgentSessionDeps, RunResult, SessionState } from './loop-types';
export { buildProgressNote, type ProgressState } from './progress-note';
export { defaultSystemPrompt, defaultTask } from './prompt';
export {
  abandonedSteps,
  checkRewind,
  conversationEvents,
  foldHistory,
  type History,
  pathTo,
  replayHistory,
  rewindNote,
  type StepNode,
} from './rewind';
export { estimateCounter, estimateTokens, type TokenCounter } from './tokens';
export {
  defaultTools,
  type PaperReader,
  runToolCall,
  type Tool,
  type ToolContext,
  type ToolOutcome,
  toolSpecs,
} from './tools';
export { workspacePath } from './tools-files';
