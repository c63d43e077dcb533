import { ConfigError, InvalidValue, parseUrl } from '@agent-sidecars/shared';

type Env = Readonly<Record<string, string | undefined>>;
export type Header = readonly [name: string, value: string];

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The OTLP/HTTP endpoint for logs from the standard variables (OpenTelemetry Protocol Exporter spec):
 * OTEL_EXPORTER_OTLP_LOGS_ENDPOINT is used as it is; OTEL_EXPORTER_OTLP_ENDPOINT is a base to which
 * `v1/logs` is appended. The signal-specific one wins. Undefined when neither is set.
 */
export function otlpEndpointFromEnv(env: Env): { url: URL; from: string } | undefined {
  const logs = env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT?.trim();
  if (logs)
    return { url: urlOf('OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', logs), from: 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT' };
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!base) return undefined;
  const url = urlOf('OTEL_EXPORTER_OTLP_ENDPOINT', base);
  url.pathname = `${url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`}v1/logs`;
  return { url, from: 'OTEL_EXPORTER_OTLP_ENDPOINT' };
}

/**
 * Headers from OTEL_EXPORTER_OTLP_LOGS_HEADERS, else OTEL_EXPORTER_OTLP_HEADERS (the signal-specific one
 * replaces the general one, as for every OTLP option): `key=value` pairs separated by commas, values
 * percent-decoded (the W3C Baggage format the spec names).
 */
export function otlpHeadersFromEnv(env: Env): readonly Header[] {
  for (const variable of ['OTEL_EXPORTER_OTLP_LOGS_HEADERS', 'OTEL_EXPORTER_OTLP_HEADERS']) {
    const text = env[variable]?.trim();
    if (text) return parseHeaderList(variable, text);
  }
  return [];
}

function parseHeaderList(variable: string, text: string): Header[] {
  const headers: Header[] = [];
  for (const item of text.split(',')) {
    if (item.trim() === '') continue;
    const eq = item.indexOf('=');
    const name = eq < 0 ? '' : item.slice(0, eq).trim();
    let value: string;
    try {
      value = decodeURIComponent(item.slice(eq + 1).trim());
    } catch {
      value = '\n';
    }
    if (!TOKEN.test(name) || /[\r\n\0]/.test(value)) {
      // The value may be a secret: the message names the variable and the header, never the text.
      throw new ConfigError(
        variable,
        undefined,
        `holds an entry that is not name=value${name === '' ? '' : ` (header ${name})`}`,
        'write comma-separated pairs with percent-encoded values, e.g. api-key=abc%20123,team=search',
      );
    }
    headers.push([name, value]);
  }
  return headers;
}

function urlOf(variable: string, text: string): URL {
  try {
    return new URL(parseUrl(text).href);
  } catch (error) {
    if (error instanceof InvalidValue) throw new ConfigError(variable, text, error.problem, error.hint);
    throw error;
  }
}

/**
 * The sidecar's own headers over the environment's: a header named in both (case-insensitively) keeps
 * the sidecar's value, as its own options rank above OTEL_* variables.
 */
export function mergeHeaders(fromEnv: readonly Header[], own: readonly Header[]): readonly Header[] {
  const ownNames = new Set(own.map(([name]) => name.toLowerCase()));
  return [...fromEnv.filter(([name]) => !ownNames.has(name.toLowerCase())), ...own];
}
