/**
 * Lexing helpers both exposition parsers share: character classes, number shapes, span comparison and
 * the hash that identifies series. They work on spans of the line being parsed, so the hot path makes no
 * strings.
 */

export const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
export const INTEGER = /^-?\d+$/;
export const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
export const VALUE_HINT = 'use a float such as 1, -2.5, 1e3, +Inf, -Inf or NaN';

/**
 * Whether text[start, end) matches DECIMAL, without making a string: 0 if not, 1 if it is and is
 * certainly finite, 2 if it is but may overflow to an infinity (an exponent or over 300 characters).
 */
export function decimalKind(text: string, start: number, end: number): number {
  let i = start;
  let c = text.charCodeAt(i);
  if (c === 43 /* + */ || c === 45 /* - */) c = text.charCodeAt(++i);
  let digits = 0;
  while (i < end && c >= 48 && c <= 57) {
    digits++;
    c = text.charCodeAt(++i);
  }
  if (i < end && c === 46 /* . */) {
    c = text.charCodeAt(++i);
    while (i < end && c >= 48 && c <= 57) {
      digits++;
      c = text.charCodeAt(++i);
    }
  }
  if (digits === 0) return 0;
  if (i === end) return end - start > 300 ? 2 : 1;
  if (c !== 101 /* e */ && c !== 69 /* E */) return 0;
  c = text.charCodeAt(++i);
  if (c === 43 || c === 45) c = text.charCodeAt(++i);
  if (i >= end || !(c >= 48 && c <= 57)) return 0;
  while (i < end && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  return i === end ? 2 : 0;
}

/**
 * A float token as it is served: decimals as written (out-of-range ones as the infinity they overflow
 * to, which Go's ParseFloat in Prometheus would otherwise reject), infinities as `+Inf`/`-Inf`, NaN as
 * `NaN`; undefined if the token is not a float.
 */
export function canonicalFloat(token: string): string | undefined {
  if (DECIMAL.test(token)) {
    const number = Number(token);
    if (!Number.isFinite(number)) return number > 0 ? '+Inf' : '-Inf';
    return token;
  }
  switch (token.toLowerCase()) {
    case 'inf':
    case '+inf':
    case 'infinity':
    case '+infinity':
      return '+Inf';
    case '-inf':
    case '-infinity':
      return '-Inf';
    case 'nan':
      return 'NaN';
    default:
      return undefined;
  }
}

/**
 * text[start, end), a float token as served (a decimal, `+Inf`, `-Inf` or `NaN`), as a number. Plain
 * decimals of at most 15 digits (`17`, `-3`, `12.0`, `0.005`) are read without making a string: the
 * digits are an exact integer and so is the power of ten, so their quotient is the correctly rounded
 * value, the same that Number gives (Clinger's fast path).
 */
export function numberAt(text: string, start: number, end: number): number {
  const value = plainNumberAt(text, start, end);
  return Number.isNaN(value) ? floatOf(text.slice(start, end)) : value;
}

/** numberAt's fast path alone: NaN (never a plain decimal's value) for anything else. */
export function plainNumberAt(text: string, start: number, end: number): number {
  let i = start;
  let c = text.charCodeAt(i);
  const negative = c === 45;
  if (negative || c === 43) c = text.charCodeAt(++i);
  let mantissa = 0;
  let digits = 0;
  let scale = 1;
  while (i < end && c >= 48 && c <= 57) {
    mantissa = mantissa * 10 + (c - 48);
    digits++;
    c = text.charCodeAt(++i);
  }
  if (i < end && c === 46 /* . */) {
    c = text.charCodeAt(++i);
    while (i < end && c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      scale *= 10;
      c = text.charCodeAt(++i);
    }
  }
  if (i === end && digits > 0 && digits <= 15) {
    const value = mantissa / scale;
    return negative ? -value : value;
  }
  return Number.NaN;
}

/** A float token as a number: decimals, and infinities and NaN in any spelling the formats allow. */
export function floatOf(token: string): number {
  const number = Number(token);
  if (!Number.isNaN(number) || /^nan$/i.test(token)) return number;
  if (/^[+-]?inf(inity)?$/i.test(token)) return token.charCodeAt(0) === 45 ? -Infinity : Infinity;
  return Number.NaN;
}

/** Whether `text` has `word` at `start` (a loop: startsWith costs more on sliced strings). */
export function equalAt(text: string, start: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if (text.charCodeAt(start + k) !== word.charCodeAt(k)) return false;
  return true;
}

/** Index of the first space or tab from `start`, or the line's length. */
export function tokenEnd(line: string, start: number): number {
  let end = start;
  while (end < line.length) {
    const c = line.charCodeAt(end);
    if (c === 32 || c === 9) break;
    end++;
  }
  return end;
}

export function skipBlanks(line: string, i: number): number {
  while (i < line.length) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9) break;
    i++;
  }
  return i;
}

/** Compares line[aStart, aEnd) with line[bStart, bEnd) by UTF-16 code unit, as `<` on strings does. */
export function compareSpans(
  line: string,
  aStart: number,
  aEnd: number,
  bStart: number,
  bEnd: number,
): number {
  const aLength = aEnd - aStart;
  const bLength = bEnd - bStart;
  const length = Math.min(aLength, bLength);
  for (let k = 0; k < length; k++) {
    const diff = line.charCodeAt(aStart + k) - line.charCodeAt(bStart + k);
    if (diff !== 0) return diff;
  }
  return aLength - bLength;
}

export const FNV_OFFSET = 0x811c9dc5 | 0;
export const FNV_PRIME = 0x01000193;

/** murmur3's finaliser: spreads every input bit over the hash, which FNV alone does poorly. */
export function fmix(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  return hash ^ (hash >>> 16);
}

/** HELP escapes `\\` and `\n` (and `\"` in OpenMetrics); any other backslash is kept, as Prometheus does. */
export function unescapeHelp(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(/\\(.)/g, (whole, c: string) =>
    c === 'n' ? '\n' : c === '\\' ? '\\' : c === '"' ? '"' : whole,
  );
}

export function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Character classes of names by ASCII code: a table lookup beats four range checks per character. */
const NAME_START = 1;
const NAME_CHAR = 2;
const LABEL_START = 4;
const LABEL_CHAR = 8;
const CHAR_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const letter = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
  const digit = c >= 48 && c <= 57;
  CHAR_CLASS[c] =
    (letter || c === 58 ? NAME_START | NAME_CHAR : 0) |
    (digit ? NAME_CHAR | LABEL_CHAR : 0) |
    (letter ? LABEL_START | LABEL_CHAR : 0);
}

export function isNameStart(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & NAME_START) !== 0;
}

export function isNameChar(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & NAME_CHAR) !== 0;
}

export function isLabelStart(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & LABEL_START) !== 0;
}

export function isLabelChar(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & LABEL_CHAR) !== 0;
}
