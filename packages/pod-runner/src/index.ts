export { type AgentRuntime, detectAgentRuntime, INSTALL_HINT } from './agent-runtime.js';
export {
  ContainerPod,
  type ContainerPodOptions,
  cpuQuantity,
  PAUSE_IMAGE,
  POD_LABEL,
  quantityBytes,
} from './container/container-pod.js';
export { type ContainerDemoIo, runContainerDemo } from './container/demo.js';
export { type DockerEngine, docker, dockerEngine } from './container/docker-cli.js';
export { DockerContainer, type DockerContainerSpec } from './container/docker-container.js';
export { type RenderedWorkload, renderedWorkload } from './container/kustomize.js';
export { configFileOf, podFromManifest, type RenderedPod } from './container/pod-manifest.js';
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
  type PodContainer,
  type PodEvent,
  type PodOptions,
  type RunningContainer,
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
