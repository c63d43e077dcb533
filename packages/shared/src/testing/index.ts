// The test kit, `@agent-sidecars/shared/testing`: one implementation of each helper the tests of every
// package use. Test-only: excluded from the shared build, so none of it reaches a dist/ or an image.
export { freePort, portIsFree } from '../net/free-port.js';
export { type NotYet, type WaitForOptions, waitFor } from '../polling/wait-for.js';
export {
  type Answer,
  answering,
  HttpReceiver,
  type ReceivedRequest,
  type ReceiverHandler,
} from './http-receiver.js';
export {
  commandProbe,
  isCi,
  pythonModulesProbe,
  requireTool,
  type ToolProbe,
  type ToolRequirement,
} from './require-tool.js';
export { seededRandom } from './seeded-random.js';
export {
  type ExitStatus,
  type LogLine,
  ProcessTracker,
  SidecarProcess,
  type SpawnOptions,
} from './sidecar-process.js';
export { type ContractSink, type HttpSinkTarget, httpSinkContract } from './sink-contract.js';
