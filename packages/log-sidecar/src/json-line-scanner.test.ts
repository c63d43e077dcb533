import { seededRandom } from '@agent-sidecars/shared/testing';
import { describe, expect, it } from 'vitest';
import { randomText } from '../test/random-text.js';
import { JsonLineScanner } from './json-line-scanner.js';

/** What the builder accepted before the scanner: spaces/tabs, then '{', then whatever JSON.parse takes. */
function isObjectLine(text: string): boolean {
  if (!/^[ \t]*\{/.test(text)) return false;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  } catch {
    return false;
  }
}

const SPACE = ['', ' ', '\t', '\n', '\r', '  '];
const TOKENS = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"',
  '\\',
  'u',
  '0',
  '1',
  '-',
  '.',
  'e',
  '+',
  't',
  'n',
  'f',
  ' ',
  '\r',
  '\u0000',
  '\u001f',
  'é',
  '\ud800',
  '\u2028',
  'x',
];

/** A random JSON value; depth-limited, with every kind of number, string and whitespace. */
function randomValue(random: () => number, depth: number): string {
  const pick = random();
  const ws = () => SPACE[Math.floor(random() * SPACE.length)]!;
  if (depth > 0 && pick < 0.15) {
    const members = Array.from({ length: Math.floor(random() * 4) }, () => {
      const key =
        random() < 0.3
          ? ['ts', 'time', 'timestamp', 't\\u0073', '\\u0074ime', 'tsx'][Math.floor(random() * 6)]!
          : randomText(random, 4);
      const keyText = key.includes('\\u') ? `"${key}"` : JSON.stringify(key);
      return `${ws()}${keyText}${ws()}:${ws()}${randomValue(random, depth - 1)}${ws()}`;
    });
    return `{${members.join(',')}${members.length === 0 ? ws() : ''}}`;
  }
  if (depth > 0 && pick < 0.25) {
    return `[${Array.from({ length: Math.floor(random() * 4) }, () => `${ws()}${randomValue(random, depth - 1)}${ws()}`).join(',')}]`;
  }
  if (pick < 0.45) return JSON.stringify(randomText(random, 6));
  if (pick < 0.5)
    return `"${['\\n', '\\"', '\\\\', '\\/', '\\b', '\\u00e9', '\\uD83D\\ude00', '\\ud800'][Math.floor(random() * 8)]}"`;
  if (pick < 0.7) {
    return [
      '0',
      '-0',
      '1.5',
      '1763700000.123',
      '1e3',
      '-2E-7',
      '1700000000000',
      '12345678901234567890',
      '0.5e+1',
    ][Math.floor(random() * 9)]!;
  }
  return ['true', 'false', 'null'][Math.floor(random() * 3)]!;
}

/** A valid object, often mutated by one to three edits into something JSON.parse may reject. */
function randomLine(random: () => number): string {
  let text = `${SPACE[Math.floor(random() * 3)]}${randomValue(random, 3)}${SPACE[Math.floor(random() * SPACE.length)]}`;
  if (!text.trimStart().startsWith('{')) text = `{"v":${text}}`;
  const edits = random() < 0.5 ? 0 : 1 + Math.floor(random() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * (text.length + 1));
    const token = TOKENS[Math.floor(random() * TOKENS.length)]!;
    const kind = random();
    text =
      kind < 0.4
        ? text.slice(0, at) + token + text.slice(at)
        : kind < 0.7
          ? text.slice(0, at) + text.slice(at + 1)
          : text.slice(0, at) + token + text.slice(at + 1);
  }
  return text;
}

describe('JsonLineScanner', () => {
  it('accepts exactly what JSON.parse accepts as an object line (seeded random lines and edits)', () => {
    const scanner = new JsonLineScanner();
    const random = seededRandom(2028);
    let valid = 0;
    for (let n = 0; n < 20_000; n++) {
      const text = randomLine(random);
      const expected = isObjectLine(text);
      if (scanner.scan(text) !== expected) expect({ n, text: JSON.stringify(text) }).toEqual({ n, expected });
      if (expected) valid++;
    }
    // The generator must exercise both sides, or the comparison proves nothing.
    expect(valid).toBeGreaterThan(5000);
    expect(valid).toBeLessThan(15_000);
  });

  it('agrees with JSON.parse on the edge cases of the grammar', () => {
    const scanner = new JsonLineScanner();
    const cases = [
      '{}',
      ' {}',
      '\t{}\r',
      '\r{}',
      '{} x',
      '{"a":1}\n',
      '{"a":01}',
      '{"a":1.}',
      '{"a":.5}',
      '{"a":-}',
      '{"a":1e}',
      '{"a":1e+}',
      '{"a":-0.0e-0}',
      '{"a":tru}',
      '{"a":nul}',
      '{"a":falsey}',
      '{"a":"\\x"}',
      '{"a":"\\u12g4"}',
      '{"a":"\\u12"}',
      '{"a":"\t"}',
      '{"a":"\u007f"}',
      '{"a" 1}',
      '{"a":1,}',
      '{,}',
      '{"a":[1,]}',
      '{"a":[,1]}',
      '{"a":[]}',
      '{"a":{}}',
      '{"a":[[]]}',
      '{"a":{"b":[{}]}}',
      '{"a":1}}',
      '{"a":[}',
      '{"a":{]}',
      '\ufeff{}',
      '{"a":"\ud800"}',
      '{1:2}',
      "{'a':1}",
      '{"a":1 "b":2}',
      '{"a"}',
      '{"a":',
      '{"a":"',
      '{"a":"\\',
      '{"a":"\\u',
      '\u0000',
      '{"a":1}\u0000',
      `${'['.repeat(1000)}`,
      '{"a":1:"b":2}',
      '{"a":[1:2]}',
      '{"a":1;"b":2}',
      '{"a"::1}',
      '{"a":1,,"b":2}',
      '{"a":{"b":1,}}',
    ];
    for (const text of cases) expect(scanner.scan(text), JSON.stringify(text)).toBe(isObjectLine(text));
  });

  it('handles deep nesting (no recursion, as JSON.parse) and long lines', () => {
    const scanner = new JsonLineScanner();
    const deep = `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expect(scanner.scan(deep)).toBe(true);
    expect(scanner.scan(`{"a":${'['.repeat(100_000)}${']'.repeat(99_999)}}`)).toBe(false);
    const long = JSON.stringify({ ts: 1, msg: 'x"é\n'.repeat(200_000) });
    expect(scanner.scan(long)).toBe(true);
    expect(scanner.scan(long.slice(0, -2))).toBe(false);
  });
});
