import { describe, expect, it } from 'vitest';
import { MIN_READ_BUFFER_BYTES, READ_BUFFER_BYTES, readBufferBytesFor } from './buffer-sizing.js';

const KiB = 1024;
const MiB = 1024 * KiB;

describe('readBufferBytesFor', () => {
  it('keeps the 256 KiB read from an 8 MiB bound up (the default 16 MiB included)', () => {
    expect(readBufferBytesFor(16 * MiB)).toBe(READ_BUFFER_BYTES);
    expect(readBufferBytesFor(8 * MiB)).toBe(READ_BUFFER_BYTES);
    expect(readBufferBytesFor(1024 * MiB)).toBe(READ_BUFFER_BYTES);
  });

  it('reads a thirty-second of a smaller bound', () => {
    expect(readBufferBytesFor(5 * MiB)).toBe(160 * KiB);
    expect(readBufferBytesFor(8 * MiB - 32)).toBe(256 * KiB - 1);
  });

  it('never reads less than 16 KiB', () => {
    expect(readBufferBytesFor(512 * KiB)).toBe(MIN_READ_BUFFER_BYTES);
    expect(readBufferBytesFor(64 * KiB)).toBe(MIN_READ_BUFFER_BYTES);
  });
});
