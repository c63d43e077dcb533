import {
  ConfigError,
  type ConfigOf,
  durationParser,
  enumParser,
  flagName,
  InvalidValue,
  listOption,
  type OptionDef,
  type OptionNames,
  option,
  optionalOption,
  optionSchema,
  type Parser,
  parseBoolean,
  parseString,
  parseUrl,
  shapedParser,
} from '@agent-sidecars/shared';
import { mergeHeaders, otlpEndpointFromEnv, otlpHeadersFromEnv } from './otlp-env.js';
import { maskHeader, maskSinkItem } from './secret-mask.js';

export const SINK_KINDS = ['stdout', 'http'] as const;
export type SinkKind = (typeof SINK_KINDS)[number];
export const SINK_FORMATS = ['ndjson', 'loki', 'elasticsearch', 'otlp'] as const;
export type SinkFormat = (typeof SINK_FORMATS)[number];

/** The path each format posts to when the URL has none (`http://loki:3100` -> `/loki/api/v1/push`). */
export const DEFAULT_PATHS: Readonly<Record<SinkFormat, string>> = {
  ndjson: '/',
  loki: '/loki/api/v1/push',
  elasticsearch: '/_bulk',
  otlp: '/v1/logs',
};

export type Header = readonly [name: string, value: string];

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** `Name: value` for the JSON Schema: a field name, a colon, the rest. */
const HEADER_SHAPE = { type: 'string', pattern: "^\\s*[!#$%&'*+\\-.^_`|~0-9A-Za-z]+\\s*:" } as const;

const HEADER_HINT = 'use "Name: value", e.g. "X-Team: search"';

/** `Name: value`, a valid HTTP field name and a value without line breaks. */
export const parseHeader: Parser<Header> = shapedParser((raw): Header => {
  const colon = raw.indexOf(':');
  const name = colon < 0 ? '' : raw.slice(0, colon).trim();
  const value = colon < 0 ? '' : raw.slice(colon + 1).trim();
  if (!TOKEN.test(name) || /[\r\n\0]/.test(value))
    throw new InvalidValue('is not an HTTP header', HEADER_HINT);
  return [name, value];
}, HEADER_SHAPE);

/** `Name: /path/to/file`: a header whose value is the file's content (a mounted Secret). */
export const parseHeaderFile: Parser<Header> = shapedParser((raw) => {
  try {
    return parseHeader(raw);
  } catch {
    throw new InvalidValue(
      'is not a header file',
      'use "Name: /path/of/a/file", e.g. "DD-API-KEY: /var/run/secrets/datadog/api-key"',
    );
  }
}, HEADER_SHAPE);

/** Headers in a config file: a list of `Name: value` strings, or a mapping of names to values. */
function headersFromFile(raw: unknown, parse: Parser<Header> = parseHeader): readonly Header[] {
  const texts = Array.isArray(raw)
    ? raw
    : typeof raw === 'object' && raw !== null
      ? Object.entries(raw).map(([name, value]) => `${name}: ${String(value)}`)
      : undefined;
  if (texts === undefined)
    throw new InvalidValue('is not a mapping or list', 'e.g. headers: {X-Team: search}');
  return Object.freeze(
    texts.map((text) => {
      if (typeof text !== 'string')
        throw new InvalidValue('holds a header that is not a string', HEADER_HINT);
      try {
        return parse(text);
      } catch (error) {
        if (error instanceof InvalidValue)
          throw new InvalidValue(`${JSON.stringify(text)} ${error.problem}`, error.hint);
        throw error;
      }
    }),
  );
}

/** One HTTP sink, fully resolved. */
export interface HttpSinkSpec {
  readonly kind: 'http';
  readonly name: string;
  readonly url: URL;
  readonly format: SinkFormat;
  readonly tokenFile: string | undefined;
  readonly basicAuthFile: string | undefined;
  readonly headers: readonly Header[];
  /** Headers whose value is read from a file (name, path), re-read when it changes, never logged. */
  readonly headerFiles: readonly Header[];
  readonly gzip: boolean;
  readonly caFile: string | undefined;
  readonly requestTimeoutMs: number;
  /** Loki: X-Scope-OrgID. */
  readonly tenant: string | undefined;
  /** Elasticsearch: index name, with %Y %m %d (UTC, from the record's time) replaced. */
  readonly index: string;
  /** Loki: fields of JSON records promoted to stream labels (keep them few: each value is a stream). */
  readonly labelFields: readonly string[];
  /** Loki: send a traceback's exception type and message as structured metadata. */
  readonly structuredMetadata: boolean;
  /** Declared in the config file's `sinks:` list (true) or by the --sink-* options: errors name it so. */
  readonly fromList: boolean;
}

/** A setting of `spec` as the user wrote it: the --sink-* flag, or the field of its `sinks:` item. */
export function sinkSettingName(spec: HttpSinkSpec, flag: string, field: string): string {
  return spec.fromList ? `sinks (sink ${spec.name}, field ${field})` : flag;
}

export interface StdoutSinkSpec {
  readonly kind: 'stdout';
  readonly name: string;
}

export type SinkSpec = StdoutSinkSpec | HttpSinkSpec;

/** A `sinks:` list item before names are settled. */
export type SinkItem = { readonly name: string | undefined } & (
  | Omit<StdoutSinkSpec, 'name'>
  // An OTLP item may leave its URL to OTEL_EXPORTER_OTLP_(LOGS_)ENDPOINT, read when the sinks are resolved.
  | (Omit<HttpSinkSpec, 'name' | 'url' | 'fromList'> & { readonly url: URL | undefined })
);

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

/** The file form of headers (and header files) for the JSON Schema: a list of "Name: value" or a mapping. */
const HEADERS_SCHEMA = {
  anyOf: [
    { type: 'array', items: { type: 'string', pattern: ':' } },
    { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
  ],
} as const;

/**
 * The HTTP sink's settings, each written once: its option definition (parser, help, default) and the
 * flag it has on the command line (`--sink-url`, env `LOG_SIDECAR_SINK_URL`). A `sinks:` item in the
 * config file takes the same settings under the key used here (`url`), with the same parser and default
 * (`fromItem`: a structured form only an item accepts).
 */
const HTTP_SETTINGS = {
  url: {
    flag: 'sinkUrl',
    def: optionalOption(parseUrl, {
      description:
        "URL of the HTTP sink; with no path, the format's usual one (/loki/api/v1/push, /_bulk, /v1/logs); otlp without it: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT (headers too: OTEL_EXPORTER_OTLP_(LOGS_)HEADERS)",
      valueName: '<url>',
    }),
  },
  format: {
    flag: 'sinkFormat',
    def: option<SinkFormat>(enumParser(SINK_FORMATS), {
      description: 'wire format of the HTTP sink',
      valueName: '<ndjson|loki|elasticsearch|otlp>',
      default: 'ndjson',
      defaultText: 'ndjson',
    }),
  },
  tokenFile: {
    flag: 'sinkTokenFile',
    def: optionalOption(parseString, {
      description: 'file holding a bearer token (a mounted Secret), re-read when it changes, never logged',
      valueName: '<file>',
    }),
  },
  basicAuthFile: {
    flag: 'sinkBasicAuthFile',
    def: optionalOption(parseString, {
      description: 'file holding user:password for basic auth (a mounted Secret), re-read when it changes',
      valueName: '<file>',
    }),
  },
  headers: {
    flag: 'sinkHeader',
    def: listOption(parseHeader, {
      description: 'extra request header, "Name: value" (a secret value belongs in --sink-header-file)',
      valueName: '<header>',
      // --print-config masks the value of credential headers (Authorization, *-Key, *Token*, ...).
      show: maskHeader,
    }),
    /** An item may also give its headers as a mapping. */
    fromItem: headersFromFile,
  },
  headerFiles: {
    flag: 'sinkHeaderFile',
    def: listOption(parseHeaderFile, {
      description:
        'request header whose value is the content of a file (a mounted Secret: Splunk HEC, Datadog API key), "Name: /path"; re-read when it changes, never logged',
      valueName: '<header-file>',
    }),
    fromItem: (raw: unknown) => headersFromFile(raw, parseHeaderFile),
  },
  gzip: {
    flag: 'sinkGzip',
    def: option(parseBoolean, {
      description: 'gzip request bodies',
      valueName: '<bool>',
      default: true,
      defaultText: 'true',
    }),
  },
  caFile: {
    flag: 'sinkCaFile',
    def: optionalOption(parseString, {
      description: 'PEM file of CA certificates to trust for https (verification is always on)',
      valueName: '<file>',
    }),
  },
  requestTimeout: {
    flag: 'sinkRequestTimeout',
    // Not below 1s: a timeout shorter than a healthy sink's answer makes every request a retry that was in
    // fact delivered (0s turned 2,000 lines into 47,000 duplicates).
    def: option(durationParser({ min: 1000, max: 10 * 60_000 }), {
      description: 'time allowed for one request, from connect to the last byte of the answer',
      valueName: '<duration>',
      default: 10_000,
      defaultText: '10s',
    }),
  },
  tenant: {
    flag: 'sinkTenant',
    def: optionalOption(parseString, {
      description: 'Loki tenant, sent as X-Scope-OrgID',
      valueName: '<tenant>',
    }),
  },
  index: {
    flag: 'sinkIndex',
    def: option(parseIndexPattern, {
      description: 'Elasticsearch/OpenSearch index, %Y %m %d replaced from the record time (UTC)',
      valueName: '<pattern>',
      default: DEFAULT_INDEX,
      defaultText: DEFAULT_INDEX,
    }),
  },
  labelFields: {
    flag: 'sinkLabelField',
    def: listOption(parseLabelField, {
      description: 'Loki: a field of JSON records to use as a stream label (besides --label), e.g. level',
      valueName: '<field>',
    }),
  },
  structuredMetadata: {
    flag: 'sinkStructuredMetadata',
    def: option(parseBoolean, {
      description:
        'Loki: send exception_type and exception_message of a record with a traceback as structured metadata (Loki 2.9+, allow_structured_metadata)',
      valueName: '<bool>',
      default: false,
      defaultText: 'false',
    }),
  },
} as const;

type HttpSettings = typeof HTTP_SETTINGS;
type HttpSetting = keyof HttpSettings;
/** The HTTP sink's settings as values, by their `sinks:` item key. */
type HttpValues = {
  -readonly [K in HttpSetting]: HttpSettings[K]['def'] extends OptionDef<infer T> ? T : never;
};
/** The HTTP sink's flags, derived from HTTP_SETTINGS. */
type HttpFlags = { readonly [K in HttpSetting as HttpSettings[K]['flag']]: HttpSettings[K]['def'] };

const HTTP_KEYS = Object.keys(HTTP_SETTINGS) as HttpSetting[];
const httpFlags = Object.fromEntries(
  HTTP_KEYS.map((key) => [HTTP_SETTINGS[key].flag, HTTP_SETTINGS[key].def]),
) as unknown as HttpFlags;

const SINKS_HINT =
  'write a list like "sinks: [{type: http, format: loki, url: http://loki:3100, tokenFile: /var/run/secrets/loki/token}]"';

const ITEM_FIELDS: readonly string[] = ['name', 'type', ...HTTP_KEYS];

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

/** One setting of a `sinks:` item, read with its option's own parser, file form and default. */
function itemSetting(index: number, field: HttpSetting, raw: unknown): unknown {
  const setting: { readonly def: OptionDef<unknown>; readonly fromItem?: (raw: unknown) => unknown } =
    HTTP_SETTINGS[field];
  const def = setting.def;
  if (raw === undefined || raw === null) return def.defaultValue;
  const fromFile = setting.fromItem ?? def.fromFile;
  if (fromFile !== undefined) {
    try {
      return fromFile(raw);
    } catch (error) {
      if (error instanceof InvalidValue) throw itemError(index, field, error.problem, error.hint);
      throw error;
    }
  }
  if (def.repeatable)
    return (Array.isArray(raw) ? raw : [raw]).map((one) => fieldValue(index, field, one, def.parse));
  return fieldValue(index, field, raw, def.parse);
}

function parseSinkItem(raw: unknown, index: number): SinkItem {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidValue(`item ${index + 1} is not a mapping`, SINKS_HINT);
  }
  const item = raw as Record<string, unknown>;
  for (const key of Object.keys(item)) {
    if (!ITEM_FIELDS.includes(key)) {
      throw itemError(index, key, 'is not a known field', `use one of: ${ITEM_FIELDS.join(', ')}`);
    }
  }
  const name = item.name == null ? undefined : fieldValue(index, 'name', item.name, parseSinkName);
  const kind = item.type == null ? 'http' : fieldValue(index, 'type', item.type, enumParser(SINK_KINDS));
  if (kind === 'stdout') return { kind, name };
  const values = Object.fromEntries(
    HTTP_KEYS.map((key) => [key, itemSetting(index, key, item[key])]),
  ) as HttpValues;
  return httpItem(
    name,
    values,
    () => itemError(index, 'url', 'is required for an http sink', 'e.g. url: http://loki:3100'),
    (problem, hint) => itemError(index, 'tokenFile', problem, hint),
  );
}

/** An HTTP sink from its settings, whichever form they were given in; the two checks across fields. */
function httpItem(
  name: string | undefined,
  values: HttpValues,
  noUrl: () => Error,
  bothAuths: (problem: string, hint: string) => Error,
): SinkItem {
  const { url, labelFields, requestTimeout, ...rest } = values;
  if (url === undefined && values.format !== 'otlp') throw noUrl();
  if (values.tokenFile !== undefined && values.basicAuthFile !== undefined) {
    throw bothAuths(
      'is given together with basicAuthFile',
      'use a bearer token file or a basic auth file, not both',
    );
  }
  return {
    ...rest,
    kind: 'http',
    name,
    url: url === undefined ? undefined : withDefaultPath(url, values.format),
    requestTimeoutMs: requestTimeout,
    labelFields,
  };
}

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
 * or env; several (or a mix) with the `sinks:` list in the --config file, whose items take the same
 * settings (HTTP_SETTINGS) under their own keys (`url`, `format`, `tokenFile`, `headers`, ...) plus `type`
 * and `name`.
 */
export const sinkOptions = {
  sink: listOption(enumParser(SINK_KINDS), {
    description: 'where records go: stdout, or http (set with the --sink-* options); both may be given',
    valueName: '<stdout|http>',
    defaultText: 'stdout, or http when --sink-url is set',
  }),
  ...httpFlags,
  sinks: optionalOption<readonly SinkItem[]>(
    () => {
      throw new InvalidValue('can only be set in the config file', SINKS_HINT);
    },
    {
      description:
        'several sinks at once: a list of items with type (stdout or http), name, and the --sink-* settings without the sink prefix (url, format, tokenFile, headers, headerFiles, ...)',
      fromFile: parseSinksList,
      fileOnly: true,
      fileSchema: { type: 'array', items: sinkItemSchema() },
      show: (items: readonly SinkItem[]) => items.map((item) => maskSinkItem(item)),
    },
  ),
} as const;

export type SinkConfig = ConfigOf<typeof sinkOptions>;
type SinkNames = Pick<OptionNames<typeof sinkOptions>, keyof typeof sinkOptions>;

/**
 * Turns the sink options into the sinks to build, with stable names (they key checkpoints: a name must
 * not change between restarts for the same sink). Throws ConfigError for contradictions, naming each
 * option the way `names` says it was set.
 */
export function resolveSinkSpecs(
  config: SinkConfig,
  names: SinkNames = defaultNames,
  context: SinkContext = { env: {} },
): readonly SinkSpec[] {
  const { env } = context;
  const fromFile = config.sinks ?? [];
  const otlpFromEnv = config.sinkFormat === 'otlp' && otlpEndpointFromEnv(env) !== undefined;
  const kinds =
    config.sink.length > 0
      ? config.sink
      : config.sinkUrl !== undefined || otlpFromEnv
        ? (['http'] as const)
        : [];
  if (fromFile.length > 0 && kinds.length > 0) {
    throw new ConfigError(
      names.sink,
      kinds.join(','),
      'is given together with a sinks: list in the config file',
      'set the sinks either with --sink and the --sink-* options or with the sinks: list, not both',
    );
  }
  if (context.given) checkUnusedHttpFlags(config, names, context, fromFile.length > 0, kinds);
  const items: SinkItem[] = [...fromFile];
  if (fromFile.length === 0) {
    const wanted = kinds.length > 0 ? kinds : (['stdout'] as const);
    for (const kind of new Set(wanted)) {
      if (kind === 'stdout') {
        items.push({ kind: 'stdout', name: undefined });
        continue;
      }
      const values = Object.fromEntries(
        HTTP_KEYS.map((key) => [key, config[HTTP_SETTINGS[key].flag]]),
      ) as HttpValues;
      const noUrl = () =>
        new ConfigError(
          names.sinkUrl,
          undefined,
          'is required with --sink http',
          'e.g. --sink-url http://loki:3100 (for otlp, OTEL_EXPORTER_OTLP_ENDPOINT also sets it)',
        );
      const item = httpItem(
        undefined,
        values,
        noUrl,
        (problem, hint) => new ConfigError(names.sinkTokenFile, config.sinkTokenFile, problem, hint),
      );
      items.push(item);
    }
  }
  const resolved = items.map((item, index) =>
    item.kind === 'http' && item.format === 'otlp'
      ? withOtlpEnv(item, env, fromFile.length > 0 ? index : undefined, names)
      : item,
  );
  const taken = new Set<string>();
  const specs: SinkSpec[] = [];
  for (const item of resolved) {
    let name = item.name;
    if (name !== undefined) {
      if (taken.has(name)) {
        throw new ConfigError(names.sinks, name, 'names two sinks', 'give each sink a unique name');
      }
    } else {
      const base = item.kind === 'stdout' ? 'stdout' : item.format;
      name = base;
      for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
    }
    taken.add(name);
    specs.push({
      ...item,
      name,
      ...(item.kind === 'http' ? { fromList: fromFile.length > 0 } : {}),
    } as SinkSpec);
  }
  return Object.freeze(specs);
}

/** What resolving the sinks needs besides the options: the env (OTEL_*), and which options were set. */
export interface SinkContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly given?: ReadonlySet<string>;
  readonly written?: Readonly<Record<string, string | undefined>>;
}

/** For the config loader's `validate`: fails early on sink contradictions. */
export function validateSinkConfig(config: SinkConfig, names: SinkNames, context: SinkContext): void {
  resolveSinkSpecs(config, names, context);
}

/**
 * An OTLP sink takes, below its own options, the standard OTLP exporter variables: its URL from
 * OTEL_EXPORTER_OTLP_LOGS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT (+ v1/logs) when it has none, and the
 * headers of OTEL_EXPORTER_OTLP_(LOGS_)HEADERS under its own (a header it sets itself wins).
 */
function withOtlpEnv(
  item: SinkItem & { kind: 'http' },
  env: Readonly<Record<string, string | undefined>>,
  index: number | undefined,
  names: SinkNames,
): SinkItem {
  const url = item.url ?? otlpEndpointFromEnv(env)?.url;
  if (url === undefined) {
    throw index === undefined
      ? new ConfigError(
          names.sinkUrl,
          undefined,
          'is required with --sink-format otlp unless OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_LOGS_ENDPOINT is set',
          'e.g. --sink-url http://otel-collector:4318',
        )
      : new ConfigError(
          names.sinks,
          undefined,
          `item ${index + 1}, field url: is required for an otlp sink unless OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_LOGS_ENDPOINT is set`,
          'e.g. url: http://otel-collector:4318',
        );
  }
  return { ...item, url, headers: mergeHeaders(otlpHeadersFromEnv(env), item.headers) };
}

/**
 * A --sink-* option that no sink would use is a mistake, not something to ignore: `--sink-format loki`
 * without --sink-url used to ship to stdout in silence.
 */
function checkUnusedHttpFlags(
  config: SinkConfig,
  names: SinkNames,
  context: SinkContext,
  hasList: boolean,
  kinds: readonly string[],
): void {
  if (!hasList && kinds.includes('http')) return;
  for (const key of HTTP_KEYS) {
    const flag = HTTP_SETTINGS[key].flag;
    if (!context.given?.has(flag)) continue;
    const written = context.written?.[flag];
    if (hasList) {
      throw new ConfigError(
        names[flag],
        written,
        'is given together with a sinks: list in the config file, whose items it does not apply to',
        `set it as field ${key} of the sinks: items instead`,
      );
    }
    throw new ConfigError(
      names[flag],
      written,
      'is given, but no HTTP sink is configured, so nothing would use it',
      flag === 'sinkFormat' && config.sinkFormat === 'otlp'
        ? 'add --sink-url, or set OTEL_EXPORTER_OTLP_ENDPOINT'
        : 'add --sink-url (e.g. --sink-url http://loki:3100), or leave it out',
    );
  }
}

/** A sinks: item field's schema: its option's, plus the mapping form an item also takes (headers). */
function itemFieldSchema(key: HttpSetting): Record<string, unknown> {
  const setting: { readonly def: OptionDef<unknown>; readonly fromItem?: unknown } = HTTP_SETTINGS[key];
  const { description, ...schema } = optionSchema(setting.def);
  return setting.fromItem === undefined
    ? { description, ...schema }
    : { description, anyOf: [schema, HEADERS_SCHEMA] };
}

/** The JSON Schema of one sinks: item, from the same settings the item reader uses. */
function sinkItemSchema(): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      name: {
        type: 'string',
        pattern: '^[a-z][a-z0-9_-]{0,62}$',
        description: 'the sink name (keys its checkpoints)',
      },
      type: { enum: [...SINK_KINDS], description: 'stdout or http. Default: http.' },
      ...Object.fromEntries(HTTP_KEYS.map((key) => [key, itemFieldSchema(key)])),
    },
  };
}

/** Names for a caller with no loader at hand (validation has run by then, so they rarely show). */
const defaultNames = {
  ...Object.fromEntries(Object.keys(sinkOptions).map((key) => [key, flagName(key)])),
  sinks: 'sinks',
} as SinkNames;
