/**
 * JSON string literals, as JSON.stringify writes them, for the hot paths that encode one per shipped
 * line: as a string (`jsonString`) or straight into a UTF-8 buffer (`writeJsonString`), which skips the
 * escaped copy of the line, its later UTF-8 encoding and the garbage both leave behind.
 */

/**
 * What JSON.stringify would escape in a string: '"', '\\', control characters, and (well-formed
 * JSON.stringify) lone surrogates; a surrogate pair is rare enough in logs to take the slow path too.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify of a string, without its cost when nothing needs escaping (nearly every log line). */
export function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Bytes an escape adds to a UTF-8 byte: 1 for `\"`, `\\`, `\n` and the like, 5 for `\u00XX`. */
const EXTRA = new Uint8Array(256);
/** The letter after the backslash of a two-byte escape. */
const SHORT = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) EXTRA[b] = 5;
for (const [byte, letter] of [
  [QUOTE, QUOTE],
  [BACKSLASH, BACKSLASH],
  [0x08, 0x62], // \b
  [0x09, 0x74], // \t
  [0x0a, 0x6e], // \n
  [0x0c, 0x66], // \f
  [0x0d, 0x72], // \r
] as const) {
  EXTRA[byte] = 1;
  SHORT[byte] = letter;
}
/** JSON.stringify writes `\u00XX` with lower-case hex digits. */
const HEX = Buffer.from('0123456789abcdef', 'latin1');

const SURROGATE = /[\ud800-\udfff]/;

type Utf8Writer = (out: Buffer, text: string, at: number) => number;
const nativeUtf8Write = (Buffer.prototype as { utf8Write?: (text: string, at: number) => number }).utf8Write;
/**
 * Writes `text` as UTF-8 at `at` (room ensured by the caller) and returns the bytes written.
 * `Buffer#write(text, at, 'utf8')` spends more in its argument handling (~100 ns) than a 200-byte line
 * takes to encode; the `utf8Write` it ends in has been on Buffer's prototype in every Node release,
 * undocumented, so it is used when present and `write` is the fallback.
 */
export const writeUtf8: Utf8Writer =
  typeof nativeUtf8Write === 'function'
    ? (out, text, at) => nativeUtf8Write.call(out, text, at)
    : (out, text, at) => out.write(text, at, 'utf8');

/** Bytes `writeJsonString` may need for `text`: 6 a UTF-16 unit (`\u001f`, `\udc00`) and the quotes. */
export function jsonStringRoom(text: string): number {
  return text.length * 6 + 2;
}

/**
 * Writes JSON.stringify(text) as UTF-8 into `out` at `at` (which has `jsonStringRoom(text)` bytes free)
 * and returns the position after it. The text is encoded once by the native UTF-8 writer; one scan of
 * those bytes counts the escapes (none: done), and escaping then runs backwards in place, so the
 * expansion never overwrites a byte not yet read. A byte >= 0x80 is part of a multi-byte character and
 * is never escaped, except that a lone surrogate (which UTF-8 cannot carry and the writer would
 * replace with U+FFFD) must be written as `\udXXX` as JSON.stringify does: text with any surrogate takes
 * JSON.stringify.
 */
export function writeJsonString(out: Buffer, at: number, text: string): number {
  out[at] = QUOTE;
  const start = at + 1;
  const end = start + writeUtf8(out, text, start);
  let extra = 0;
  let high = 0;
  for (let i = start; i < end; i++) {
    const byte = out[i]!;
    extra += EXTRA[byte]!;
    high |= byte;
  }
  if ((high & 0x80) !== 0 && SURROGATE.test(text)) return at + writeUtf8(out, JSON.stringify(text), at);
  let read = end - 1;
  let write = read + extra;
  // Once every escape is expanded the two positions meet: the bytes before are already in place.
  while (write > read) {
    const byte = out[read--]!;
    const grow = EXTRA[byte]!;
    if (grow === 0) {
      out[write--] = byte;
    } else if (grow === 1) {
      out[write--] = SHORT[byte]!;
      out[write--] = BACKSLASH;
    } else {
      out[write--] = HEX[byte & 15]!;
      out[write--] = HEX[byte >> 4]!;
      out[write--] = 0x30;
      out[write--] = 0x30;
      out[write--] = 0x75;
      out[write--] = BACKSLASH;
    }
  }
  out[end + extra] = QUOTE;
  return end + extra + 1;
}
