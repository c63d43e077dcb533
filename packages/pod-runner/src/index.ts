export { type AgentRuntime, detectAgentRuntime, INSTALL_HINT } from './agent-runtime.js';
export { httpGet, type ProbeResult, probePasses } from './http-probe.js';
export {
  AGENT_DIR,
  type LocalPod,
  type LocalPodOptions,
  type LogSink,
  localPod,
  REPO_ROOT,
} from './local-pod.js';
export {
  describeExit,
  type ExitStatus,
  ManagedProcess,
  type OutputStream,
  type ProcessSpec,
} from './managed-process.js';
export { OutputFormatter } from './output-formatter.js';
export {
  type ContainerSpec,
  type ContainerTermination,
  Pod,
  type PodEvent,
  type PodOptions,
  type TerminationReport,
} from './pod.js';
export {
  parseShippedRecord,
  RecordLedger,
  RecordReceiver,
  requestIdOf,
  type ShippedRecord,
} from './record-receiver.js';
export { AgentClient, type InferenceOutcome, SteadyLoad, type SteadyLoadOptions } from './traffic.js';
