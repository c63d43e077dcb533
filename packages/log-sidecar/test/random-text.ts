/**
 * Random text for differential tests of the JSON encoders and parsers: every kind of UTF-16 unit a line
 * can hold that JSON treats differently (quotes, backslashes, control characters, DEL, U+2028/2029,
 * multi-byte letters, surrogate pairs, lone surrogates, U+FFFD), in runs of plain ASCII, and now and
 * then very long.
 */
const PIECES = [
  'a',
  'Z',
  ' ',
  '0',
  '"',
  '\\',
  '/',
  '\t',
  '\n',
  '\r',
  '\b',
  '\f',
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '\u0080',
  'é',
  'ÿ',
  '中',
  '\u2028',
  '\u2029',
  '\ufffd',
  '\ufeff',
  '😀',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  'request finished ',
  '{"ts":1.5}',
];

export function randomText(random: () => number, maxPieces = 40): string {
  const long = random() < 0.02;
  const count = long ? 20_000 + Math.floor(random() * 20_000) : Math.floor(random() * maxPieces);
  const plainOnly = random() < 0.3;
  let text = '';
  for (let i = 0; i < count; i++) {
    text += plainOnly ? PIECES[Math.floor(random() * 4)]! : PIECES[Math.floor(random() * PIECES.length)]!;
  }
  return text;
}

/** Random bytes, often valid UTF-8 and often not (cut sequences, stray continuation bytes, overlongs). */
export function randomBytes(random: () => number, maxLength = 200): Buffer {
  const length = Math.floor(random() * maxLength);
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    const pick = random();
    bytes[i] =
      pick < 0.6
        ? 0x20 + Math.floor(random() * 0x5f)
        : pick < 0.7
          ? Math.floor(random() * 0x20)
          : 0x80 + Math.floor(random() * 0x80);
  }
  return bytes;
}
