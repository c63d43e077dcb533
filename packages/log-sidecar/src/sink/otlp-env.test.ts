import { ConfigError } from '@agent-sidecars/shared';
import { describe, expect, it } from 'vitest';
import { mergeHeaders, otlpEndpointFromEnv, otlpHeadersFromEnv } from './otlp-env.js';

describe('OTLP exporter environment', () => {
  it('appends v1/logs to OTEL_EXPORTER_OTLP_ENDPOINT, with or without a path', () => {
    expect(otlpEndpointFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })?.url.href).toBe(
      'http://collector:4318/v1/logs',
    );
    expect(otlpEndpointFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://gw/otlp/' })?.url.href).toBe(
      'https://gw/otlp/v1/logs',
    );
    expect(otlpEndpointFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://gw/otlp' })?.url.href).toBe(
      'https://gw/otlp/v1/logs',
    );
  });

  it('uses OTEL_EXPORTER_OTLP_LOGS_ENDPOINT as it is, over the general one', () => {
    expect(
      otlpEndpointFromEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://general:4318',
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://logs:4318/custom/path',
      }),
    ).toEqual({ url: new URL('http://logs:4318/custom/path'), from: 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT' });
    expect(otlpEndpointFromEnv({})).toBeUndefined();
  });

  it('rejects an endpoint that is not an http(s) URL, naming the variable', () => {
    expect(() => otlpEndpointFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317' })).toThrow(ConfigError);
    expect(() => otlpEndpointFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317' })).toThrow(
      /^OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4317" has scheme collector/,
    );
  });

  it('reads percent-decoded headers, the logs-specific variable replacing the general one', () => {
    expect(otlpHeadersFromEnv({ OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc%20123, team=search' })).toEqual([
      ['api-key', 'abc 123'],
      ['team', 'search'],
    ]);
    expect(
      otlpHeadersFromEnv({ OTEL_EXPORTER_OTLP_HEADERS: 'a=1', OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'b=2' }),
    ).toEqual([['b', '2']]);
  });

  it('rejects a malformed header list without echoing its value', () => {
    let message = '';
    try {
      otlpHeadersFromEnv({ OTEL_EXPORTER_OTLP_HEADERS: 'secret-token-without-name' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^OTEL_EXPORTER_OTLP_HEADERS: holds an entry that is not name=value/);
    expect(message).not.toContain('secret-token');
  });

  it("keeps the sidecar's own header over the environment's of the same name", () => {
    expect(
      mergeHeaders(
        [
          ['Authorization', 'env'],
          ['x-env', '1'],
        ],
        [['authorization', 'own']],
      ),
    ).toEqual([
      ['x-env', '1'],
      ['authorization', 'own'],
    ]);
  });
});
