import { describe, expect, it } from 'vitest';
import { InvalidValue } from './config-error.js';
import {
  byteSizeParser,
  durationParser,
  enumParser,
  formatByteSize,
  formatDuration,
  integerParser,
  parseBoolean,
  parseByteSize,
  parseDuration,
  parseLabel,
  parseListenAddress,
  parseRegExp,
  parseString,
  parseUrl,
} from './parsers.js';

function problemOf(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidValue);
    return (error as InvalidValue).message;
  }
  throw new Error('expected the parser to reject the value');
}

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['15s', 15_000],
    ['2m', 120_000],
    ['1.5s', 1500],
    ['0', 0],
    [' 1s ', 1000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1m30s', 90_000],
    ['2h45m10s250ms', 9_910_250],
    ['250ms', 250],
  ])('reads %j as %i ms', (raw, ms) => expect(parseDuration(raw)).toBe(ms));

  it.each(['fast', '', '10', '1d', '-1s', '1 s', 's', '1h30', 'h1'])('rejects %j naming the units', (raw) => {
    expect(problemOf(() => parseDuration(raw))).toBe(
      'is not a duration; use a number with h, m, s or ms, alone or combined, e.g. 1s, 1h30m or 250ms',
    );
  });

  it('rejects values outside its bounds, saying the range as written', () => {
    const parse = durationParser({ min: 1000, max: 10 * 60_000 });
    expect(parse('90s')).toBe(90_000);
    expect(problemOf(() => parse('0s'))).toBe('is below the minimum of 1s; use a duration from 1s to 10m');
    expect(problemOf(() => parse('1h'))).toBe('is above the maximum of 10m; use a duration from 1s to 10m');
  });

  it.each([
    [250, '250ms'],
    [1500, '1.5s'],
    [25_000, '25s'],
    [60 * 60_000, '1h'],
    [5_400_000, '1h30m'],
    [90_000, '1m30s'],
  ])('writes %i ms as %j, which reads back the same', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});

describe('parseByteSize', () => {
  it.each([
    ['64KiB', 65_536],
    ['1MiB', 1_048_576],
    ['2GiB', 2 * 1024 ** 3],
    ['512', 512],
    ['10B', 10],
    ['1MB', 1_000_000],
    ['0.5MiB', 524_288],
  ])('reads %j as %i bytes', (raw, bytes) => expect(parseByteSize(raw)).toBe(bytes));

  it('rejects sizes outside its bounds and writes sizes in the largest whole unit', () => {
    const parse = byteSizeParser({ min: 1024 });
    expect(problemOf(() => parse('512'))).toBe('is below the minimum of 1KiB; use a size of at least 1KiB');
    expect(formatByteSize(256 * 1024)).toBe('256KiB');
    expect(formatByteSize(1000)).toBe('1000B');
  });

  it.each(['big', '1 TiB', '-1KiB', 'KiB', '1mib'])('rejects %j', (raw) => {
    expect(problemOf(() => parseByteSize(raw))).toBe(
      'is not a byte size; use a number with B, KiB, MiB or GiB, e.g. 1MiB',
    );
  });
});

describe('parseUrl', () => {
  it('accepts http and https URLs', () => {
    expect(parseUrl('http://127.0.0.1:8000/metrics').port).toBe('8000');
    expect(parseUrl('https://logs.example.com/loki/api/v1/push').hostname).toBe('logs.example.com');
  });
  it('rejects a relative URL and other schemes', () => {
    expect(problemOf(() => parseUrl('localhost:8000'))).toMatch(
      /^has scheme localhost; use an absolute http or https URL/,
    );
    expect(problemOf(() => parseUrl('/metrics'))).toMatch(/^is not a URL; use an absolute http or https URL/);
    expect(problemOf(() => parseUrl('ftp://x/y'))).toMatch(/^has scheme ftp;/);
  });
});

describe('parseListenAddress', () => {
  it.each([
    [':9090', { host: '0.0.0.0', port: 9090 }],
    ['127.0.0.1:9091', { host: '127.0.0.1', port: 9091 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    ['[::1]:9090', { host: '::1', port: 9090 }],
  ])('reads %j', (raw, address) => expect(parseListenAddress(raw)).toEqual(address));

  it.each(['9090', 'host', ':99999', ':port', '::1:9090', ''])('rejects %j', (raw) => {
    expect(problemOf(() => parseListenAddress(raw))).toMatch(
      /use host:port or :port with a port from 0 to 65535, e\.g\. :9090/,
    );
  });
});

describe('parseLabel', () => {
  it('splits at the first =', () => {
    expect(parseLabel('team=search')).toEqual(['team', 'search']);
    expect(parseLabel('query=a=b')).toEqual(['query', 'a=b']);
    expect(parseLabel('empty=')).toEqual(['empty', '']);
  });
  it.each(['team', '=x', '1team=x', 'te-am=x'])('rejects %j', (raw) => {
    expect(problemOf(() => parseLabel(raw))).toMatch(
      /^is not a key=value label; use a name of letters, digits and underscores/,
    );
  });
});

describe('enumParser', () => {
  const format = enumParser(['json', 'raw']);
  it('accepts the allowed words', () => expect(format('raw')).toBe('raw'));
  it('lists the allowed words when rejecting', () => {
    expect(problemOf(() => format('xml'))).toBe('is not one of json, raw; use one of json, raw, e.g. json');
  });
});

describe('integerParser', () => {
  const parse = integerParser(1, 100);
  it('accepts whole numbers in range', () => expect(parse('42')).toBe(42));
  it('rejects fractions, words and out-of-range values', () => {
    expect(problemOf(() => parse('1.5'))).toBe(
      'is not a whole number; use a whole number from 1 to 100, e.g. 1',
    );
    expect(problemOf(() => parse('many'))).toMatch(/^is not a whole number/);
    expect(problemOf(() => parse('0'))).toBe('is out of range; use a whole number from 1 to 100, e.g. 1');
    expect(problemOf(() => parse('101'))).toMatch(/^is out of range/);
  });
});

describe('other parsers', () => {
  it('parseBoolean reads true/false words', () => {
    expect(parseBoolean('TRUE')).toBe(true);
    expect(parseBoolean('off')).toBe(false);
    expect(problemOf(() => parseBoolean('maybe'))).toBe('is not a boolean; use true or false, e.g. true');
  });
  it('parseString rejects empty values', () => {
    expect(parseString('x')).toBe('x');
    expect(problemOf(() => parseString('  '))).toBe('is empty; give a non-empty value');
  });
  it('parseRegExp compiles or says why not', () => {
    expect(parseRegExp('^\\d+').test('12')).toBe(true);
    expect(problemOf(() => parseRegExp('('))).toMatch(/^is not a regular expression \(/);
  });
});
