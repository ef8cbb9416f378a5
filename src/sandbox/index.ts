/** Public API of the sandbox layer (devcontainer → container on a Docker engine). */

export { BROWSE_READ_MAX, SandboxBrowser, type SandboxEntry, SandboxShell } from './browse';
export { LABEL_SESSION, LABEL_STATE, type Limits, parseSize, stateLabel } from './container';
export { type DefaultBuildOptions, LABEL_DEFAULT_SANDBOX } from './default-sandbox';
export { findDevcontainerCli, type SandboxConfig } from './devcontainer';
export { checkDocker, type DockerInfo } from './docker-client';
export { DockerSandbox, type SandboxInfo } from './docker-sandbox';
export { SandboxError, type SandboxErrorCode } from './errors';
export {
  type FreshRunOptions,
  type FreshRunResult,
  LABEL_FRESH_OF,
  removeFreshContainers,
  runFreshContainer,
} from './fresh-run';
export { type GitGuard, installGitGuard } from './git-guard';
export { describeGpus, type GpuRequest, NO_GPUS, parseGpus } from './gpus';
export {
  HISTORY_DIR,
  type HistoryRefs,
  HostGitMissingError,
  HostHistory,
  hostGitMissing,
} from './host-history';
export {
  buildDefaultSandbox,
  pullImage,
  type ReadinessOptions,
  type SandboxReadiness,
  sandboxReadiness,
} from './image-check';
export {
  attachSandbox,
  findSandbox,
  listSessionContainers,
  type OpenSandboxOptions,
  openSandbox,
  removeContainer,
  removeSandbox,
  type SandboxSummary,
} from './open';
export type { ChangeKind, ExecOptions, ExecResult, FileChange, Sandbox } from './sandbox';
export { resolveWorkspacePath } from './sandbox';
