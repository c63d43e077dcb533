import { seededRandom } from '@agent-sidecars/shared/testing';
import { describe, expect, it } from 'vitest';
import { randomBytes, randomText } from '../../test/random-text.js';
import { jsonString, jsonStringRoom, writeJsonString } from './json-string.js';

/** What writeJsonString wrote, given the same room it is promised in production (plus a guard byte). */
function written(text: string, at = 3): Buffer {
  const out = Buffer.alloc(at + jsonStringRoom(text) + 1, 0xaa);
  const end = writeJsonString(out, at, text);
  expect(out.subarray(0, at).every((b) => b === 0xaa)).toBe(true);
  expect(out[out.length - 1]).toBe(0xaa);
  return out.subarray(at, end);
}

describe('writeJsonString', () => {
  it('writes exactly the UTF-8 bytes of JSON.stringify for each kind of character', () => {
    for (const text of [
      '',
      'plain',
      '"',
      '\\',
      '\u0000\u001f\b\f\n\r\t',
      '\u007f',
      'é中😀',
      '\u2028\u2029',
    ]) {
      expect(written(text).toString('hex'), JSON.stringify(text)).toBe(
        Buffer.from(JSON.stringify(text), 'utf8').toString('hex'),
      );
    }
  });

  it('writes a lone surrogate as JSON.stringify does (\\udXXX), not as U+FFFD', () => {
    expect(written('a\ud800b').toString()).toBe('"a\\ud800b"');
    expect(written('\udc00').toString()).toBe('"\\udc00"');
    expect(JSON.parse(written('x\udfff').toString())).toBe('x\udfff');
  });

  it('matches JSON.stringify on random text (seeded: quotes, controls, surrogates, long lines)', () => {
    const random = seededRandom(16);
    for (let n = 0; n < 3000; n++) {
      const text = randomText(random);
      const expected = Buffer.from(JSON.stringify(text), 'utf8');
      const actual = written(text, n % 7);
      if (!actual.equals(expected))
        expect({ n, text: JSON.stringify(text), actual: actual.toString() }).toBe(0);
      expect(jsonString(text)).toBe(JSON.stringify(text));
    }
  });

  it('matches JSON.stringify on text decoded from random (often invalid) UTF-8', () => {
    const random = seededRandom(17);
    for (let n = 0; n < 3000; n++) {
      const text = randomBytes(random).toString('utf8');
      expect(written(text).equals(Buffer.from(JSON.stringify(text), 'utf8'))).toBe(true);
    }
  });
});
