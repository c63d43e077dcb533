import {
  ConfigError,
  type ConfigOf,
  enumParser,
  InvalidValue,
  integerParser,
  listOption,
  type OptionNames,
  option,
  optionalOption,
  type Parser,
  parseBoolean,
  parseDuration,
  parseString,
  parseUrl,
} from '@agent-sidecars/shared';

export const SINK_KINDS = ['stdout', 'http'] as const;
export type SinkKind = (typeof SINK_KINDS)[number];
export const SINK_FORMATS = ['ndjson', 'loki', 'elasticsearch', 'otlp'] as const;
export type SinkFormat = (typeof SINK_FORMATS)[number];
export const ON_DEADLINE = ['stdout', 'drop'] as const;

/** The path each format posts to when the URL has none (`http://loki:3100` -> `/loki/api/v1/push`). */
export const DEFAULT_PATHS: Readonly<Record<SinkFormat, string>> = {
  ndjson: '/',
  loki: '/loki/api/v1/push',
  elasticsearch: '/_bulk',
  otlp: '/v1/logs',
};

export type Header = readonly [name: string, value: string];

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** `Name: value`, a valid HTTP field name and a value without line breaks. */
export const parseHeader: Parser<Header> = (raw) => {
  const colon = raw.indexOf(':');
  const name = colon < 0 ? '' : raw.slice(0, colon).trim();
  const value = colon < 0 ? '' : raw.slice(colon + 1).trim();
  if (!TOKEN.test(name) || /[\r\n\0]/.test(value)) {
    throw new InvalidValue('is not an HTTP header', 'use "Name: value", e.g. "X-Team: search"');
  }
  return [name, value];
};

/** One HTTP sink, fully resolved. */
export interface HttpSinkSpec {
  readonly kind: 'http';
  readonly name: string;
  readonly url: URL;
  readonly format: SinkFormat;
  readonly tokenFile: string | undefined;
  readonly basicAuthFile: string | undefined;
  readonly headers: readonly Header[];
  readonly gzip: boolean;
  readonly caFile: string | undefined;
  readonly requestTimeoutMs: number;
  /** Loki: X-Scope-OrgID. */
  readonly tenant: string | undefined;
  /** Elasticsearch: index name, with %Y %m %d (UTC, from the record's time) replaced. */
  readonly index: string;
  /** Loki: fields of JSON records promoted to stream labels (keep them few: each value is a stream). */
  readonly labelFields: readonly string[];
}

export interface StdoutSinkSpec {
  readonly kind: 'stdout';
  readonly name: string;
}

export type SinkSpec = StdoutSinkSpec | HttpSinkSpec;

/** A `sinks:` list item before names are settled. */
export type SinkItem = { readonly name: string | undefined } & (
  | Omit<StdoutSinkSpec, 'name'>
  | Omit<HttpSinkSpec, 'name'>
);

const SINKS_HINT =
  'write a list like "sinks: [{type: http, format: loki, url: http://loki:3100, tokenFile: /var/run/secrets/loki/token}]"';

const ITEM_FIELDS = [
  'name',
  'type',
  'url',
  'format',
  'tokenFile',
  'basicAuthFile',
  'headers',
  'gzip',
  'caFile',
  'requestTimeout',
  'tenant',
  'index',
  'labelFields',
] as const;

function itemError(index: number, field: string, problem: string, hint: string): InvalidValue {
  return new InvalidValue(`item ${index + 1}, field ${field}: ${problem}`, hint);
}

function fieldValue<T>(index: number, field: string, raw: unknown, parse: Parser<T>): T {
  if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
    throw itemError(index, field, 'is not a single value', 'use a string, e.g. "1s"');
  }
  try {
    return parse(String(raw));
  } catch (error) {
    if (error instanceof InvalidValue) {
      throw itemError(index, field, `${JSON.stringify(raw)} ${error.problem}`, error.hint);
    }
    throw error;
  }
}

function parseSinkItem(raw: unknown, index: number): SinkItem {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidValue(`item ${index + 1} is not a mapping`, SINKS_HINT);
  }
  const item = raw as Record<string, unknown>;
  for (const key of Object.keys(item)) {
    if (!(ITEM_FIELDS as readonly string[]).includes(key)) {
      throw itemError(index, key, 'is not a known field', `use one of: ${ITEM_FIELDS.join(', ')}`);
    }
  }
  const get = <T>(field: string, parse: Parser<T>): T | undefined =>
    item[field] === undefined || item[field] === null
      ? undefined
      : fieldValue(index, field, item[field], parse);
  const name = get('name', parseSinkName);
  const kind = get('type', enumParser(SINK_KINDS)) ?? 'http';
  if (kind === 'stdout') return { kind, name };
  const url = get('url', parseUrl);
  if (url === undefined) {
    throw itemError(index, 'url', 'is required for an http sink', 'e.g. url: http://loki:3100');
  }
  const format = get('format', enumParser(SINK_FORMATS)) ?? 'ndjson';
  let headers: Header[] = [];
  const rawHeaders = item.headers;
  if (Array.isArray(rawHeaders)) {
    headers = rawHeaders.map((h) => fieldValue(index, 'headers', h, parseHeader));
  } else if (typeof rawHeaders === 'object' && rawHeaders !== null) {
    headers = Object.entries(rawHeaders).map(([k, v]) =>
      fieldValue(index, 'headers', `${k}: ${String(v)}`, parseHeader),
    );
  } else if (rawHeaders !== undefined && rawHeaders !== null) {
    throw itemError(index, 'headers', 'is not a mapping or list', 'e.g. headers: {X-Team: search}');
  }
  let labelFields: string[] = [];
  const rawLabels = item.labelFields;
  if (Array.isArray(rawLabels))
    labelFields = rawLabels.map((f) => fieldValue(index, 'labelFields', f, parseLabelField));
  else if (rawLabels !== undefined && rawLabels !== null) {
    labelFields = [fieldValue(index, 'labelFields', rawLabels, parseLabelField)];
  }
  return finishHttp(
    {
      kind: 'http',
      name,
      url: withDefaultPath(url, format),
      format,
      tokenFile: get('tokenFile', parseString),
      basicAuthFile: get('basicAuthFile', parseString),
      headers,
      gzip: get('gzip', parseBoolean) ?? true,
      caFile: get('caFile', parseString),
      requestTimeoutMs: get('requestTimeout', parseDuration) ?? DEFAULT_REQUEST_TIMEOUT_MS,
      tenant: get('tenant', parseString),
      index: get('index', parseIndexPattern) ?? DEFAULT_INDEX,
      labelFields,
    },
    (problem, hint) => itemError(index, 'tokenFile', problem, hint),
  );
}

function finishHttp<T extends Omit<HttpSinkSpec, 'name'> & { readonly name: string | undefined }>(
  spec: T,
  fail: (problem: string, hint: string) => Error,
): T {
  if (spec.tokenFile !== undefined && spec.basicAuthFile !== undefined) {
    throw fail(
      'is given together with basicAuthFile',
      'use a bearer token file or a basic auth file, not both',
    );
  }
  return spec;
}

const parseSinkName: Parser<string> = (raw) => {
  if (!/^[a-z][a-z0-9_-]{0,62}$/.test(raw)) {
    throw new InvalidValue(
      'is not a sink name',
      'use lowercase letters, digits, - and _, starting with a letter, e.g. loki-eu',
    );
  }
  return raw;
};

const parseLabelField: Parser<string> = (raw) => {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(raw)) {
    throw new InvalidValue('is not a label name', 'use letters, digits and _, e.g. level');
  }
  return raw;
};

const parseIndexPattern: Parser<string> = (raw) => {
  const sample = raw.replace(/%[Ymd]/g, '0');
  if (sample === '' || /[A-Z\\/*?"<>| ,#:]/.test(sample) || /^[-_+.]/.test(sample) || /%/.test(sample)) {
    throw new InvalidValue(
      'is not an index name pattern',
      'use lowercase letters, digits, - and _, with %Y, %m and %d for the date, e.g. logs-agent-%Y.%m.%d',
    );
  }
  return raw;
};

const DEFAULT_INDEX = 'logs-%Y.%m.%d';
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

function withDefaultPath(url: URL, format: SinkFormat): URL {
  if (url.pathname !== '/' && url.pathname !== '') return url;
  const copy = new URL(url.href);
  copy.pathname = DEFAULT_PATHS[format];
  return copy;
}

function parseSinksList(raw: unknown): readonly SinkItem[] {
  if (raw === null || raw === undefined) return [];
  if (!Array.isArray(raw)) throw new InvalidValue('is not a list', SINKS_HINT);
  return Object.freeze(raw.map((item, index) => parseSinkItem(item, index)));
}

/**
 * The sink options, to spread into log-sidecar's option definitions. One HTTP sink can be set with flags
 * or env; several (or a mix) with the `sinks:` list in the --config file, whose item fields are these
 * names without the `sink` prefix (`url`, `format`, `tokenFile`, `headers`, ...) plus `type` and `name`.
 */
export const sinkOptions = {
  sink: listOption(enumParser(SINK_KINDS), {
    description: 'where records go: stdout, or http (set with the --sink-* options); both may be given',
    valueName: '<stdout|http>',
    defaultText: 'stdout, or http when --sink-url is set',
  }),
  sinkUrl: optionalOption(parseUrl, {
    description:
      "URL of the HTTP sink; with no path, the format's usual one (/loki/api/v1/push, /_bulk, /v1/logs)",
    valueName: '<url>',
  }),
  sinkFormat: option<SinkFormat>(enumParser(SINK_FORMATS), {
    description: 'wire format of the HTTP sink',
    valueName: '<ndjson|loki|elasticsearch|otlp>',
    default: 'ndjson',
    defaultText: 'ndjson',
  }),
  sinkTokenFile: optionalOption(parseString, {
    description: 'file holding a bearer token (a mounted Secret), re-read when it changes, never logged',
    valueName: '<file>',
  }),
  sinkBasicAuthFile: optionalOption(parseString, {
    description: 'file holding user:password for basic auth (a mounted Secret), re-read when it changes',
    valueName: '<file>',
  }),
  sinkHeader: listOption(parseHeader, {
    description: 'extra request header, "Name: value"',
    valueName: '<header>',
  }),
  sinkGzip: option(parseBoolean, {
    description: 'gzip request bodies',
    valueName: '<bool>',
    default: true,
    defaultText: 'true',
  }),
  sinkCaFile: optionalOption(parseString, {
    description: 'PEM file of CA certificates to trust for https (verification is always on)',
    valueName: '<file>',
  }),
  sinkRequestTimeout: option(parseDuration, {
    description: 'time allowed for one request, from connect to the last byte of the answer',
    valueName: '<duration>',
    default: DEFAULT_REQUEST_TIMEOUT_MS,
    defaultText: '10s',
  }),
  sinkTenant: optionalOption(parseString, {
    description: 'Loki tenant, sent as X-Scope-OrgID',
    valueName: '<tenant>',
  }),
  sinkIndex: option(parseIndexPattern, {
    description: 'Elasticsearch/OpenSearch index, %Y %m %d replaced from the record time (UTC)',
    valueName: '<pattern>',
    default: DEFAULT_INDEX,
    defaultText: DEFAULT_INDEX,
  }),
  sinkLabelField: listOption(parseLabelField, {
    description: 'Loki: a field of JSON records to use as a stream label (besides --label), e.g. level',
    valueName: '<field>',
  }),
  sinkRetryLimit: optionalOption(integerParser(1), {
    description: 'attempts per batch before its records are counted as lost',
    valueName: '<n>',
    defaultText: 'unlimited',
  }),
  maxInFlight: option(integerParser(1, 64), {
    description: 'requests open at once per sink',
    valueName: '<n>',
    default: 2,
    defaultText: '2',
  }),
  onDeadline: option<(typeof ON_DEADLINE)[number]>(enumParser(ON_DEADLINE), {
    description:
      'what happens at the shutdown deadline to lines a sink has not acknowledged, read or not yet read: stdout writes them there, drop leaves them behind the checkpoint',
    valueName: '<stdout|drop>',
    default: 'stdout',
    defaultText: 'stdout',
  }),
  sinks: optionalOption<readonly SinkItem[]>(
    () => {
      throw new InvalidValue('can only be set in the config file', SINKS_HINT);
    },
    { description: 'several sinks at once (config file only)', fromFile: parseSinksList, fileOnly: true },
  ),
} as const;

export type SinkConfig = ConfigOf<typeof sinkOptions>;

/**
 * Turns the sink options into the sinks to build, with stable names (they key checkpoints: a name must
 * not change between restarts for the same sink). Throws ConfigError for contradictions.
 */
export function resolveSinkSpecs(
  config: SinkConfig,
  names: Pick<OptionNames<typeof sinkOptions>, keyof typeof sinkOptions> = defaultNames,
): readonly SinkSpec[] {
  const fromFile = config.sinks ?? [];
  const kinds =
    config.sink.length > 0 ? config.sink : config.sinkUrl !== undefined ? (['http'] as const) : [];
  if (fromFile.length > 0 && kinds.length > 0) {
    throw new ConfigError(
      names.sink,
      kinds.join(','),
      'is given together with a sinks: list in the config file',
      'set the sinks either with --sink and the --sink-* options or with the sinks: list, not both',
    );
  }
  const items: SinkItem[] = [...fromFile];
  if (fromFile.length === 0) {
    const wanted = kinds.length > 0 ? kinds : (['stdout'] as const);
    for (const kind of new Set(wanted)) {
      if (kind === 'stdout') {
        items.push({ kind: 'stdout', name: undefined });
        continue;
      }
      if (config.sinkUrl === undefined) {
        throw new ConfigError(
          names.sinkUrl,
          undefined,
          'is required with --sink http',
          'e.g. --sink-url http://loki:3100',
        );
      }
      items.push(
        finishHttp(
          {
            kind: 'http',
            name: undefined,
            url: withDefaultPath(config.sinkUrl, config.sinkFormat),
            format: config.sinkFormat,
            tokenFile: config.sinkTokenFile,
            basicAuthFile: config.sinkBasicAuthFile,
            headers: config.sinkHeader,
            gzip: config.sinkGzip,
            caFile: config.sinkCaFile,
            requestTimeoutMs: config.sinkRequestTimeout,
            tenant: config.sinkTenant,
            index: config.sinkIndex,
            labelFields: config.sinkLabelField,
          },
          (problem, hint) => new ConfigError(names.sinkTokenFile, config.sinkTokenFile, problem, hint),
        ),
      );
    }
  }
  const taken = new Set<string>();
  const specs: SinkSpec[] = [];
  for (const item of items) {
    let name = item.name;
    if (name !== undefined) {
      if (taken.has(name)) {
        throw new ConfigError('sinks', name, 'names two sinks', 'give each sink a unique name');
      }
    } else {
      const base = item.kind === 'stdout' ? 'stdout' : item.format;
      name = base;
      for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
    }
    taken.add(name);
    specs.push({ ...item, name } as SinkSpec);
  }
  return Object.freeze(specs);
}

/** For the config loader's `validate`: fails early on sink contradictions. */
export function validateSinkConfig(
  config: SinkConfig,
  names: Pick<OptionNames<typeof sinkOptions>, keyof typeof sinkOptions>,
): void {
  resolveSinkSpecs(config, names);
}

const defaultNames = Object.fromEntries(
  Object.keys(sinkOptions).map((key) => [key, `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`]),
) as Pick<OptionNames<typeof sinkOptions>, keyof typeof sinkOptions>;
