import { describe, expect, it } from 'vitest';
import { MIN_BATCH_BYTES, MIN_READ_BUFFER_BYTES, READ_BUFFER_BYTES, sizeByBuffer } from './buffer-sizing.js';

const KiB = 1024;
const MiB = 1024 * KiB;

describe('sizeByBuffer', () => {
  it('leaves the defaults as they were at the default bound', () => {
    expect(sizeByBuffer(16 * MiB, 1 * MiB, false)).toEqual({
      batchMaxBytes: 1 * MiB,
      readBufferBytes: READ_BUFFER_BYTES,
      batchLowered: false,
    });
    expect(sizeByBuffer(64 * MiB, 1 * MiB, false).readBufferBytes).toBe(READ_BUFFER_BYTES);
  });

  it('makes batches a sixteenth and reads a thirty-second of a small bound', () => {
    expect(sizeByBuffer(5 * MiB, 1 * MiB, false)).toEqual({
      batchMaxBytes: 320 * KiB,
      readBufferBytes: 160 * KiB,
      batchLowered: true,
    });
  });

  it('keeps a --batch-max-bytes the user set, and the reads still follow the bound', () => {
    expect(sizeByBuffer(5 * MiB, 1 * MiB, true)).toEqual({
      batchMaxBytes: 1 * MiB,
      readBufferBytes: 160 * KiB,
      batchLowered: false,
    });
  });

  it('never lowers a batch bound that is already under the share', () => {
    expect(sizeByBuffer(5 * MiB, 64 * KiB, false)).toMatchObject({
      batchMaxBytes: 64 * KiB,
      batchLowered: false,
    });
  });

  it('stops at the smallest batch and read for the smallest bound', () => {
    expect(sizeByBuffer(64 * KiB, 1 * MiB, false)).toEqual({
      batchMaxBytes: 4 * KiB,
      readBufferBytes: MIN_READ_BUFFER_BYTES,
      batchLowered: true,
    });
    expect(sizeByBuffer(8 * KiB, 1 * MiB, false).batchMaxBytes).toBe(MIN_BATCH_BYTES);
  });
});
