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
 * takes to encode. The `utf8Write` it ends in is on Buffer's prototype (undocumented, in every Node this
 * project runs on), so it is used when present and `write` is the fallback.
 */
export const writeUtf8: Utf8Writer =
  typeof nativeUtf8Write === 'function'
    ? (out, text, at) => nativeUtf8Write.call(out, text, at)
    : (out, text, at) => out.write(text, at, 'utf8');

/** Bytes `writeJsonString` may need for `text`: 6 a UTF-16 unit (`\u001f`, `\udc00`) and the quotes. */
export function jsonStringRoom(text: string): number {
  return text.length * 6 + 2;
}

/** Where text that needs escaping is encoded before it is escaped into the output. */
let scratch = Buffer.allocUnsafe(4096);

/**
 * Writes JSON.stringify(text) as UTF-8 into `out` at `at` (which has `jsonStringRoom(text)` bytes free)
 * and returns the position after it. One native regular-expression test tells whether anything needs
 * escaping: if not, the text is written by the native UTF-8 writer as it is; if so, it is encoded into
 * a scratch buffer and copied into `out` in one byte loop that expands the escapes. A byte >= 0x80 is
 * part of a multi-byte character and is never escaped; text with a surrogate (a lone one must become
 * `\udXXX`, which UTF-8 cannot carry) takes JSON.stringify, as `jsonString` does.
 */
export function writeJsonString(out: Buffer, at: number, text: string): number {
  if (!NEEDS_ESCAPE.test(text)) {
    out[at] = QUOTE;
    const end = at + 1 + writeUtf8(out, text, at + 1);
    out[end] = QUOTE;
    return end + 1;
  }
  if (SURROGATE.test(text)) return at + writeUtf8(out, JSON.stringify(text), at);
  if (scratch.length < text.length * 3) scratch = Buffer.allocUnsafe(text.length * 3);
  const source = scratch;
  const length = writeUtf8(source, text, 0);
  let write = at;
  out[write++] = QUOTE;
  for (let read = 0; read < length; read++) {
    const byte = source[read]!;
    const grow = EXTRA[byte]!;
    if (grow === 0) {
      out[write++] = byte;
    } else if (grow === 1) {
      out[write++] = BACKSLASH;
      out[write++] = SHORT[byte]!;
    } else {
      out[write++] = BACKSLASH;
      out[write++] = 0x75;
      out[write++] = 0x30;
      out[write++] = 0x30;
      out[write++] = HEX[byte >> 4]!;
      out[write++] = HEX[byte & 15]!;
    }
  }
  out[write++] = QUOTE;
  // A huge line should not pin its scratch buffer for the life of the process.
  if (source.length > 65_536) scratch = Buffer.allocUnsafe(4096);
  return write;
}
