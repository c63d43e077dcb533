import type { Writable } from 'node:stream';
import type { Logger } from '@agent-sidecars/shared';
import type { Sink } from './sink.js';
import { resolveSinkSpecs, type SinkConfig, type SinkSpec } from './sink-options.js';
import { StdoutSink } from './stdout-sink.js';

export interface SinkDeps {
  /** process.stdout in the binary. */
  readonly stdout: Writable;
  readonly logger: Logger;
  /** The process environment, for the Downward API resource attributes of OTLP. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Builds the configured sinks, in configuration order. */
export function createSinks(config: SinkConfig, deps: SinkDeps): Sink[] {
  return resolveSinkSpecs(config).map((spec) => createSink(spec, deps));
}

export function createSink(spec: SinkSpec, deps: SinkDeps): Sink {
  switch (spec.kind) {
    case 'stdout':
      return new StdoutSink({ stream: deps.stdout, name: spec.name });
    case 'http':
      throw new Error(`the ${spec.format} HTTP sink is not built yet`);
  }
}
