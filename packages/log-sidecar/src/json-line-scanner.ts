import { writeUtf8 } from './sink/json-string.js';

/** What a top-level time key held, as far as the record builder cares. */
export enum ValueKind {
  Absent = 0,
  Null = 1,
  Number = 2,
  /** A string without escapes: its text is the slice between the quotes. */
  String = 3,
  /** A string with at least one backslash escape: JSON.parse the span to read it. */
  EscapedString = 4,
  /** true, false, an object or an array. */
  Other = 5,
}

/** The time keys the record builder reads, in its order of preference (`ts ?? time ?? timestamp`). */
export const TIME_KEYS = ['ts', 'time', 'timestamp'] as const;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SLASH = 0x2f;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

const OBJECT = 0;
const ARRAY = 1;

/**
 * Tells whether a line is a JSON object exactly as `JSON.parse` would (same grammar: RFC 8259, JSON
 * whitespace only, any nesting depth) without building it, and remembers where the values of the
 * top-level `ts`, `time` and `timestamp` keys are (the last of each, as JSON.parse keeps the last
 * duplicate). The record builder keeps the line's text, not its object, so the object JSON.parse built
 * was garbage the moment the time was read: that was most of the JSON mode's CPU and young-generation
 * churn.
 *
 * The scan runs on the line's UTF-8 bytes (one native encoding pass into a scratch buffer): a byte loop
 * is several times faster in V8 than `charCodeAt` on a string. Every JSON token outside a string is
 * ASCII, and any other character is a byte >= 0x80 that is valid only inside a string, in the text and
 * in its encoding alike (a lone surrogate becomes U+FFFD's bytes: also just a string character), so
 * the bytes are valid JSON exactly when the text is. A zero byte after the end stops every loop there
 * (it is no token, no digit, and not allowed in a string) without a bounds check.
 */
export class JsonLineScanner {
  readonly kinds = new Uint8Array(TIME_KEYS.length);
  /** Where each time key's value is in the text; only set when `ascii` (bytes and units line up). */
  readonly starts = new Int32Array(TIME_KEYS.length);
  readonly ends = new Int32Array(TIME_KEYS.length);
  /** True when the last scanned text was all ASCII, so byte positions are positions in the text. */
  ascii = true;
  #bytes = Buffer.allocUnsafe(4096);
  /** Open containers (OBJECT or ARRAY), innermost at `depth - 1`; grows with the deepest line seen. */
  #stack = new Uint8Array(64);

  /** True when `text` is one JSON object (optionally surrounded by JSON whitespace). */
  scan(text: string): boolean {
    if (this.#bytes.length < text.length * 3 + 8) this.#bytes = Buffer.allocUnsafe(text.length * 3 + 8);
    const b = this.#bytes;
    const n = writeUtf8(b, text, 0);
    b[n] = 0;
    this.ascii = n === text.length;
    const valid = this.#scan(b, n);
    // A huge line should not pin its scratch buffer for the life of the builder.
    if (b.length > 65_536) this.#bytes = Buffer.allocUnsafe(4096);
    return valid;
  }

  #scan(b: Buffer, n: number): boolean {
    const kinds = this.kinds;
    kinds[0] = kinds[1] = kinds[2] = ValueKind.Absent;
    let stack = this.#stack;
    let depth = 0;
    // Before the '{' only spaces and tabs, as the builder always allowed (a line starting "\r{" is text).
    let i = 0;
    while (b[i] === 0x20 || b[i] === 0x09) i++;
    if (b[i] !== OPEN_BRACE) return false;
    stack[depth++] = OBJECT;
    i = skipSpace(b, i + 1);
    // Right after '{': a key or '}'.
    if (b[i] === CLOSE_BRACE) return skipSpace(b, i + 1) === n;
    for (;;) {
      // At a key (inside an object).
      if (b[i] !== QUOTE) return false;
      const keyStart = i;
      i = skipString(b, i);
      if (i < 0) return false;
      const key = depth === 1 ? timeKeyIndex(b, keyStart, i) : -1;
      i = skipSpace(b, i);
      if (b[i] !== COLON) return false;
      i = skipSpace(b, i + 1);
      // At a value.
      for (;;) {
        const c = b[i]!;
        const valueStart = i;
        let kind: ValueKind;
        if (c === QUOTE) {
          i = skipString(b, i);
          if (i < 0) return false;
          kind = key >= 0 && hasBackslash(b, valueStart, i) ? ValueKind.EscapedString : ValueKind.String;
        } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
          if (key >= 0 && depth === 1) this.#found(key, ValueKind.Other, i, i);
          if (depth === stack.length) {
            const deeper = new Uint8Array(depth * 2);
            deeper.set(stack);
            this.#stack = stack = deeper;
          }
          stack[depth++] = c === OPEN_BRACE ? OBJECT : ARRAY;
          i = skipSpace(b, i + 1);
          const close = b[i];
          if (c === OPEN_BRACKET && close !== CLOSE_BRACKET) continue; // the array's first value
          if (c === OPEN_BRACE && close !== CLOSE_BRACE) break; // the object's first key
          depth--;
          i++;
          kind = ValueKind.Other;
        } else if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
          i = skipNumber(b, i);
          if (i < 0) return false;
          kind = ValueKind.Number;
        } else if (c === 0x74 && b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65) {
          i += 4; // true
          kind = ValueKind.Other;
        } else if (c === 0x6e && b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c) {
          i += 4; // null
          kind = ValueKind.Null;
        } else if (
          c === 0x66 &&
          b[i + 1] === 0x61 &&
          b[i + 2] === 0x6c &&
          b[i + 3] === 0x73 &&
          b[i + 4] === 0x65
        ) {
          i += 5; // false
          kind = ValueKind.Other;
        } else {
          return false;
        }
        if (key >= 0 && depth === 1) this.#found(key, kind, valueStart, i);
        // After a value: ',' continues the innermost container, a closer ends it (and maybe more).
        i = skipSpace(b, i);
        let next = b[i];
        while (next === (stack[depth - 1] === OBJECT ? CLOSE_BRACE : CLOSE_BRACKET)) {
          depth--;
          if (depth === 0) return skipSpace(b, i + 1) === n;
          i = skipSpace(b, i + 1);
          next = b[i];
        }
        if (next !== COMMA) return false;
        i = skipSpace(b, i + 1);
        if (stack[depth - 1] === OBJECT) break; // the next key
      }
    }
  }

  #found(key: number, kind: ValueKind, start: number, end: number): void {
    this.kinds[key] = kind;
    this.starts[key] = start;
    this.ends[key] = end;
  }
}

/** JSON whitespace: space, tab, line feed, carriage return (nothing else, as JSON.parse). */
function skipSpace(b: Buffer, i: number): number {
  for (;;) {
    const c = b[i]!;
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else return i;
  }
}

/** 1 for a byte that a JSON string holds as it is: not '"', '\\', or a control character. */
const PLAIN_IN_STRING = new Uint8Array(256).fill(1, 0x20);
PLAIN_IN_STRING[QUOTE] = 0;
PLAIN_IN_STRING[BACKSLASH] = 0;

/** From the opening quote at `i` to just after the closing one; -1 if the string is not valid JSON. */
function skipString(b: Buffer, i: number): number {
  i++;
  for (;;) {
    const c = b[i++]!;
    if (PLAIN_IN_STRING[c] === 1) continue;
    if (c === QUOTE) return i;
    if (c === BACKSLASH) {
      const e = b[i++]!;
      if (e === 0x75) {
        // \uXXXX: four hex digits.
        for (const end = i + 4; i < end; i++) if (!isHex(b[i]!)) return -1;
      } else if (
        e !== QUOTE &&
        e !== BACKSLASH &&
        e !== SLASH &&
        e !== 0x62 &&
        e !== 0x66 &&
        e !== 0x6e &&
        e !== 0x72 &&
        e !== 0x74
      ) {
        return -1;
      }
    } else if (c < 0x20) {
      return -1; // a raw control character inside a string, or the zero byte after the end
    }
  }
}

function isHex(c: number): boolean {
  return (c >= DIGIT_0 && c <= DIGIT_9) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` from `i`; the end, or -1. */
function skipNumber(b: Buffer, i: number): number {
  if (b[i]! === MINUS) i++;
  let c = b[i]!;
  if (c === DIGIT_0) i++;
  else if (c > DIGIT_0 && c <= DIGIT_9) i = skipDigits(b, i + 1);
  else return -1;
  if (b[i]! === DOT) {
    const start = i + 1;
    i = skipDigits(b, start);
    if (i === start) return -1;
  }
  c = b[i]!;
  if (c === 0x65 || c === 0x45) {
    i++;
    c = b[i]!;
    if (c === PLUS || c === MINUS) i++;
    const start = i;
    i = skipDigits(b, start);
    if (i === start) return -1;
  }
  return i;
}

function skipDigits(b: Buffer, i: number): number {
  for (;;) {
    const c = b[i]!;
    if (c >= DIGIT_0 && c <= DIGIT_9) i++;
    else return i;
  }
}

const TIME_KEY_BYTES = TIME_KEYS.map((name) => Buffer.from(`"${name}"`, 'latin1'));

/** Index in TIME_KEYS of the key whose quoted bytes are `b[start, end)`, or -1. */
function timeKeyIndex(b: Buffer, start: number, end: number): number {
  // Most keys are told apart by their first letter: every time key starts with 't' (or an escape).
  const first = b[start + 1];
  if (first !== 0x74 && first !== BACKSLASH) return -1;
  // An escaped key (`"t\u0073"`) is longer than the name it spells: decode it to compare.
  if (hasBackslash(b, start, end)) {
    return (TIME_KEYS as readonly string[]).indexOf(JSON.parse(b.toString('utf8', start, end)) as string);
  }
  for (let k = 0; k < TIME_KEY_BYTES.length; k++) {
    const name = TIME_KEY_BYTES[k]!;
    if (name.length === end - start && sameBytes(b, start, name)) return k;
  }
  return -1;
}

function sameBytes(b: Buffer, start: number, name: Buffer): boolean {
  for (let k = 0; k < name.length; k++) if (b[start + k] !== name[k]) return false;
  return true;
}

function hasBackslash(b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i] === BACKSLASH) return true;
  return false;
}
