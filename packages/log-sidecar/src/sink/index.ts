export { classifyStatus } from '../delivery/retry-policy.js';
export { HttpSink, type HttpSinkOptions } from './http-sink.js';
export { RecordLineEncoder } from './record-line-encoder.js';
export type { SendResult, Sink } from './sink.js';
export { createSink, createSinks, type SinkDeps } from './sink-factory.js';
export {
  type HttpSinkSpec,
  resolveSinkSpecs,
  type SinkConfig,
  type SinkFormat,
  type SinkSpec,
  type StdoutSinkSpec,
  sinkOptions,
  validateSinkConfig,
} from './sink-options.js';
export { StdoutSink, type StdoutSinkOptions } from './stdout-sink.js';
