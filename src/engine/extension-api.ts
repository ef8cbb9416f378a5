/**
 * What the extension needs from the engine, as one module: esbuild bundles it as dist/engine.js,
 * which the extension loads on first use (`import('./extension-api')`), so activation does not pay
 * for pdf.js, the Docker client and the model client.
 */
export { OpenAIModelClient } from '../llm/openai-client';
export { loadPaper } from '../paper';
export {
  attachSandbox,
  buildDefaultSandbox,
  checkDocker,
  listSessionContainers,
  pullImage,
  SandboxBrowser,
  sandboxReadiness,
  stateLabel,
} from '../sandbox';
export { pruneContainers, removeSessionContainer } from './containers';
export { ControlClient } from './control';
export { Reproduction } from './reproduction';
export { readHistory, rewindSession, type StepReader, stepOwnRange, stepRange, stepReader } from './rewind';
