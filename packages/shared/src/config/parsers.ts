import { InvalidValue } from './config-error.js';

/**
 * What a parser accepts, declared once beside it: the loader checks the type of a config-file value with
 * it, --help and --print-config read it, and the JSON Schema of a config file is generated from it.
 */
export interface ValueShape {
  readonly type: 'duration' | 'size' | 'integer' | 'boolean' | 'enum' | 'string';
  /** Inclusive bounds, in the parsed unit (ms, bytes, count). */
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  /** A JSON Schema (ECMA-262) pattern a text value must match. */
  readonly pattern?: string;
}

/** Turns one textual value into a typed one, or throws InvalidValue saying what is allowed. */
export interface Parser<T> {
  (raw: string): T;
  readonly shape?: ValueShape;
  /** The value as a user would write it (`1h30m`, `256KiB`), for --help and --print-config. */
  format?(value: T): string;
}

export function shapedParser<T>(
  parse: (raw: string) => T,
  shape: ValueShape,
  format?: (value: T) => string,
): Parser<T> {
  return Object.assign((raw: string) => parse(raw), format ? { shape, format } : { shape });
}

export interface Bounds {
  readonly min?: number;
  readonly max?: number;
}

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/y;
const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** The same syntax for the JSON Schema: `0`, or number+unit parts such as `1h30m`, `250ms`, `1.5s`. */
export const DURATION_PATTERN = '^\\s*(0|(\\d+(\\.\\d+)?(ms|h|m|s))+)\\s*$';
const DURATION_HINT = 'use a number with h, m, s or ms, alone or combined, e.g. 1s, 1h30m or 250ms';

function readDuration(raw: string): number {
  const text = raw.trim();
  if (text === '0') return 0;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    DURATION_PART.lastIndex = at;
    const match = DURATION_PART.exec(text);
    if (!match) break;
    total += Number(match[1]) * DURATION_UNIT_MS[match[2]!]!;
    at = DURATION_PART.lastIndex;
  }
  if (at === 0 || at !== text.length) throw new InvalidValue('is not a duration', DURATION_HINT);
  return Math.round(total);
}

/** Milliseconds in the unit a person would write: `250ms`, `1.5s`, `25s`, `1h30m`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${ms / 1000}s`;
  let rest = ms;
  let text = '';
  for (const unit of ['h', 'm', 's', 'ms'] as const) {
    const size = DURATION_UNIT_MS[unit]!;
    const count = Math.floor(rest / size);
    if (count > 0) text += `${count}${unit}`;
    rest -= count * size;
  }
  return text;
}

function rangeHint(noun: string, format: (n: number) => string, bounds: Bounds): string {
  const { min, max } = bounds;
  if (min !== undefined && max !== undefined) return `use ${noun} from ${format(min)} to ${format(max)}`;
  if (min !== undefined) return `use ${noun} of at least ${format(min)}`;
  return `use ${noun} of at most ${format(max ?? 0)}`;
}

function checkBounds(value: number, noun: string, format: (n: number) => string, bounds: Bounds): void {
  if (bounds.min !== undefined && value < bounds.min) {
    throw new InvalidValue(`is below the minimum of ${format(bounds.min)}`, rangeHint(noun, format, bounds));
  }
  if (bounds.max !== undefined && value > bounds.max) {
    throw new InvalidValue(`is above the maximum of ${format(bounds.max)}`, rangeHint(noun, format, bounds));
  }
}

/** A number with a unit (a duration, a size), read by `read` and held within `bounds`. */
function unitParser(
  type: 'duration' | 'size',
  read: (raw: string) => number,
  format: (value: number) => string,
  pattern: string,
  bounds: Bounds,
): Parser<number> {
  const noun = type === 'duration' ? 'a duration' : 'a size';
  return shapedParser(
    (raw) => {
      const value = read(raw);
      checkBounds(value, noun, format, bounds);
      return value;
    },
    { type, min: bounds.min ?? 0, ...(bounds.max === undefined ? {} : { max: bounds.max }), pattern },
    format,
  );
}

/** `250ms`, `15s`, `2m`, `1h`, `1h30m` (and `0`) to milliseconds, within the bounds (in ms). */
export function durationParser(bounds: Bounds = {}): Parser<number> {
  return unitParser('duration', readDuration, formatDuration, DURATION_PATTERN, bounds);
}

/** Any duration, `0` included. */
export const parseDuration: Parser<number> = durationParser();

const BYTE_SIZE = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|KB|MB|GB)?$/;
export const BYTE_SIZE_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*(B|KiB|MiB|GiB|KB|MB|GB)?\\s*$';
const BYTE_UNIT: Record<string, number> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  KB: 1000,
  MB: 1000 ** 2,
  GB: 1000 ** 3,
};

/** Bytes in the largest binary unit that divides them: `256KiB`, `16MiB`, `1000B`. */
export function formatByteSize(bytes: number): string {
  for (const unit of ['GiB', 'MiB', 'KiB'] as const) {
    const size = BYTE_UNIT[unit]!;
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}

function readByteSize(raw: string): number {
  const match = BYTE_SIZE.exec(raw.trim());
  if (!match) {
    throw new InvalidValue('is not a byte size', 'use a number with B, KiB, MiB or GiB, e.g. 1MiB');
  }
  return Math.floor(Number(match[1]) * BYTE_UNIT[match[2] ?? 'B']!);
}

/** `64KiB`, `1MiB`, `512` (bytes) to a whole number of bytes, within the bounds (in bytes). */
export function byteSizeParser(bounds: Bounds = {}): Parser<number> {
  return unitParser('size', readByteSize, formatByteSize, BYTE_SIZE_PATTERN, bounds);
}

/** Any byte size, `0` included. */
export const parseByteSize: Parser<number> = byteSizeParser();

const URL_HINT = 'use an absolute http or https URL, e.g. http://127.0.0.1:8000/metrics';

/** An absolute http or https URL. */
export const parseUrl: Parser<URL> = shapedParser(
  (raw) => {
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      throw new InvalidValue('is not a URL', URL_HINT);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new InvalidValue(`has scheme ${url.protocol.slice(0, -1)}`, URL_HINT);
    }
    return url;
  },
  { type: 'string', pattern: '^\\s*[Hh][Tt][Tt][Pp][Ss]?://' },
  maskUrl,
);

/** A URL with any password replaced, for logs and --print-config. */
export function maskUrl(url: URL): string {
  if (url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.password = '***';
  return copy.href;
}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

const LISTEN_HINT = 'use host:port or :port with a port from 0 to 65535, e.g. :9090 or 127.0.0.1:9090';

/** `host:port`, `[::1]:port` or `:port` (every IPv4 interface, as a Pod's probes and Prometheus need). */
export const parseListenAddress: Parser<ListenAddress> = shapedParser(
  (raw) => {
    const text = raw.trim();
    const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(text);
    if (!match) throw new InvalidValue('is not a listen address', LISTEN_HINT);
    const port = Number(match[3]);
    if (port > 65_535) throw new InvalidValue('has a port above 65535', LISTEN_HINT);
    const host = match[1] ?? match[2] ?? '';
    return { host: host === '' ? '0.0.0.0' : host, port };
  },
  { type: 'string', pattern: ':\\d{1,5}\\s*$' },
  ({ host, port }) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`),
);

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `key=value`, the key a valid Prometheus/Loki label name. */
export const parseLabel: Parser<readonly [string, string]> = shapedParser(
  (raw) => {
    const eq = raw.indexOf('=');
    const key = eq < 0 ? '' : raw.slice(0, eq).trim();
    if (eq < 0 || !LABEL_NAME.test(key)) {
      throw new InvalidValue(
        'is not a key=value label',
        'use a name of letters, digits and underscores (not starting with a digit), =, then the value, e.g. team=search',
      );
    }
    return [key, raw.slice(eq + 1)] as const;
  },
  { type: 'string', pattern: '^\\s*[A-Za-z_][A-Za-z0-9_]*\\s*=' },
  ([key, value]) => `${key}=${value}`,
);

/** One of a fixed set of words. */
export function enumParser<const T extends string>(allowed: readonly T[]): Parser<T> {
  return shapedParser(
    (raw) => {
      const text = raw.trim();
      if ((allowed as readonly string[]).includes(text)) return text as T;
      throw new InvalidValue(
        `is not one of ${allowed.join(', ')}`,
        `use one of ${allowed.join(', ')}, e.g. ${allowed[0]}`,
      );
    },
    { type: 'enum', values: allowed },
  );
}

/** A whole number within [min, max]. */
export function integerParser(min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> {
  const hint =
    max === Number.MAX_SAFE_INTEGER
      ? `use a whole number >= ${min}`
      : `use a whole number from ${min} to ${max}`;
  return shapedParser(
    (raw) => {
      const text = raw.trim();
      if (!/^-?\d+$/.test(text))
        throw new InvalidValue('is not a whole number', `${hint}, e.g. ${Math.max(min, 1)}`);
      const value = Number(text);
      if (value < min || value > max)
        throw new InvalidValue('is out of range', `${hint}, e.g. ${Math.max(min, 1)}`);
      return value;
    },
    { type: 'integer', min, ...(max === Number.MAX_SAFE_INTEGER ? {} : { max }) },
  );
}

export const parsePositiveInt: Parser<number> = integerParser(1);

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

export const parseBoolean: Parser<boolean> = shapedParser(
  (raw) => {
    const text = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(text)) return true;
    if (FALSE_WORDS.has(text)) return false;
    throw new InvalidValue('is not a boolean', 'use true or false, e.g. true');
  },
  { type: 'boolean' },
);

/** Any non-empty text. */
export const parseString: Parser<string> = shapedParser(
  (raw) => {
    if (raw.trim() === '') throw new InvalidValue('is empty', 'give a non-empty value');
    return raw;
  },
  { type: 'string', pattern: '\\S' },
);

/** A JavaScript regular expression source. */
export const parseRegExp: Parser<RegExp> = shapedParser(
  (raw) => {
    try {
      return new RegExp(raw);
    } catch (error) {
      throw new InvalidValue(
        `is not a regular expression (${(error as Error).message})`,
        'use a JavaScript regular expression, e.g. ^\\d{4}-\\d{2}-\\d{2}',
      );
    }
  },
  { type: 'string' },
  (value) => value.source,
);
