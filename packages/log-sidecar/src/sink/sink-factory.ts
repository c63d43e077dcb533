import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { ConfigError, type Logger } from '@agent-sidecars/shared';
import { ElasticsearchFormat } from './elasticsearch-format.js';
import { LokiFormat } from './loki-format.js';
import { NdjsonFormat } from './ndjson-format.js';
import { OtlpFormat } from './otlp-format.js';
import type { Sink } from './sink.js';
import {
  type HttpSinkSpec,
  resolveSinkSpecs,
  type SinkConfig,
  type SinkSpec,
  sinkSettingName,
} from './sink-options.js';
import { StdoutSink } from './stdout-sink.js';
import type { WireFormat } from './wire-format.js';

export interface SinkDeps {
  /** process.stdout in the binary. */
  readonly stdout: Writable;
  /** True when `stdout` keeps no chunk after its write callback (process.stdout): see StdoutSinkOptions. */
  readonly reuseStdoutBuffers?: boolean;
  readonly logger: Logger;
  /** The process environment, for the Downward API resource attributes of OTLP. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * Builds the configured sinks, in configuration order. Rejects with a ConfigError when a CA file is
 * unreadable.
 */
export async function createSinks(
  config: SinkConfig & { readonly maxInFlight: number },
  deps: SinkDeps,
): Promise<Sink[]> {
  const sinks: Sink[] = [];
  for (const spec of resolveSinkSpecs(config, undefined, { env: deps.env }))
    sinks.push(await createSink(spec, deps, config.maxInFlight));
  return sinks;
}

export async function createSink(spec: SinkSpec, deps: SinkDeps, maxInFlight = 2): Promise<Sink> {
  if (spec.kind === 'stdout') {
    return new StdoutSink({
      stream: deps.stdout,
      name: spec.name,
      reuseBuffers: deps.reuseStdoutBuffers ?? false,
    });
  }
  // The HTTP client modules (node:http, node:https, zlib) are loaded only when an HTTP sink is configured.
  const { HttpSink } = await import('./http-sink.js');
  return new HttpSink({
    name: spec.name,
    url: spec.url,
    format: createFormat(spec, deps),
    gzip: spec.gzip,
    headers: spec.headers,
    tokenFile: spec.tokenFile,
    basicAuthFile: spec.basicAuthFile,
    headerFiles: spec.headerFiles,
    ca:
      spec.caFile === undefined
        ? undefined
        : readCa(spec.caFile, sinkSettingName(spec, '--sink-ca-file', 'caFile')),
    requestTimeoutMs: spec.requestTimeoutMs,
    tenant: spec.tenant,
    connections: maxInFlight,
  });
}

function createFormat(spec: HttpSinkSpec, deps: SinkDeps): WireFormat {
  switch (spec.format) {
    case 'ndjson':
      return new NdjsonFormat();
    case 'loki':
      return new LokiFormat({ labelFields: spec.labelFields, structuredMetadata: spec.structuredMetadata });
    case 'elasticsearch':
      return new ElasticsearchFormat({ index: spec.index });
    case 'otlp':
      return new OtlpFormat({
        env: deps.env,
        onPartialSuccess: (rejected, message) =>
          deps.logger.error(
            { sink: spec.name, records: rejected, reason: message },
            'OTLP collector dropped records (partial success); they are lost.',
          ),
      });
  }
}

/** `option`: how the user named the setting (a flag, or a `sinks:` item's field), for the error. */
export function readCa(path: string, option: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      option,
      path,
      `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      'give a readable PEM file of CA certificates, e.g. /etc/ssl/loki/ca.crt',
    );
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError(
      option,
      path,
      'holds no PEM certificate',
      'give a PEM file with -----BEGIN CERTIFICATE----- blocks',
    );
  }
  return text;
}
