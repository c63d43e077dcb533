import { InvalidValue } from './config-error.js';

/** Turns one textual value into a typed one, or throws InvalidValue saying what is allowed. */
export type Parser<T> = (raw: string) => T;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)$/;
const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** `500ms`, `15s`, `2m` (and `0`) to milliseconds. */
export const parseDuration: Parser<number> = (raw) => {
  const text = raw.trim();
  if (text === '0') return 0;
  const match = DURATION.exec(text);
  if (!match) throw new InvalidValue('is not a duration', 'use a number with ms, s or m, e.g. 1s');
  return Math.round(Number(match[1]) * DURATION_UNIT_MS[match[2]!]!);
};

const BYTE_SIZE = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|KB|MB|GB)?$/;
const BYTE_UNIT: Record<string, number> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  KB: 1000,
  MB: 1000 ** 2,
  GB: 1000 ** 3,
};

/** `64KiB`, `1MiB`, `512` (bytes) to a whole number of bytes. */
export const parseByteSize: Parser<number> = (raw) => {
  const match = BYTE_SIZE.exec(raw.trim());
  if (!match) {
    throw new InvalidValue('is not a byte size', 'use a number with B, KiB, MiB or GiB, e.g. 1MiB');
  }
  return Math.floor(Number(match[1]) * BYTE_UNIT[match[2] ?? 'B']!);
};

/** An absolute http or https URL. */
export const parseUrl: Parser<URL> = (raw) => {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new InvalidValue(
      'is not a URL',
      'use an absolute http or https URL, e.g. http://127.0.0.1:8000/metrics',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidValue(
      `has scheme ${url.protocol.slice(0, -1)}`,
      'use an absolute http or https URL, e.g. http://127.0.0.1:8000/metrics',
    );
  }
  return url;
};

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

const LISTEN_HINT = 'use host:port or :port with a port from 0 to 65535, e.g. :9090 or 127.0.0.1:9090';

/** `host:port`, `[::1]:port` or `:port` (every IPv4 interface, as a Pod's probes and Prometheus need). */
export const parseListenAddress: Parser<ListenAddress> = (raw) => {
  const text = raw.trim();
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(text);
  if (!match) throw new InvalidValue('is not a listen address', LISTEN_HINT);
  const port = Number(match[3]);
  if (port > 65_535) throw new InvalidValue('has a port above 65535', LISTEN_HINT);
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
};

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `key=value`, the key a valid Prometheus/Loki label name. */
export const parseLabel: Parser<readonly [string, string]> = (raw) => {
  const eq = raw.indexOf('=');
  const key = eq < 0 ? '' : raw.slice(0, eq).trim();
  if (eq < 0 || !LABEL_NAME.test(key)) {
    throw new InvalidValue(
      'is not a key=value label',
      'use a name of letters, digits and underscores (not starting with a digit), =, then the value, e.g. team=search',
    );
  }
  return [key, raw.slice(eq + 1)];
};

/** One of a fixed set of words. */
export function enumParser<const T extends string>(allowed: readonly T[]): Parser<T> {
  return (raw) => {
    const text = raw.trim();
    if ((allowed as readonly string[]).includes(text)) return text as T;
    throw new InvalidValue(
      `is not one of ${allowed.join(', ')}`,
      `use one of ${allowed.join(', ')}, e.g. ${allowed[0]}`,
    );
  };
}

/** A whole number within [min, max]. */
export function integerParser(min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> {
  const hint =
    max === Number.MAX_SAFE_INTEGER
      ? `use a whole number >= ${min}`
      : `use a whole number from ${min} to ${max}`;
  return (raw) => {
    const text = raw.trim();
    if (!/^-?\d+$/.test(text))
      throw new InvalidValue('is not a whole number', `${hint}, e.g. ${Math.max(min, 1)}`);
    const value = Number(text);
    if (value < min || value > max)
      throw new InvalidValue('is out of range', `${hint}, e.g. ${Math.max(min, 1)}`);
    return value;
  };
}

export const parsePositiveInt: Parser<number> = integerParser(1);

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

export const parseBoolean: Parser<boolean> = (raw) => {
  const text = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  throw new InvalidValue('is not a boolean', 'use true or false, e.g. true');
};

/** Any non-empty text. */
export const parseString: Parser<string> = (raw) => {
  if (raw.trim() === '') throw new InvalidValue('is empty', 'give a non-empty value');
  return raw;
};

/** A JavaScript regular expression source. */
export const parseRegExp: Parser<RegExp> = (raw) => {
  try {
    return new RegExp(raw);
  } catch (error) {
    throw new InvalidValue(
      `is not a regular expression (${(error as Error).message})`,
      'use a JavaScript regular expression, e.g. ^\\d{4}-\\d{2}-\\d{2}',
    );
  }
};
