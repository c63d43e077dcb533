/**
 * How `--buffer-max-bytes` sizes the rest of the pipeline's in-flight bytes (issue 16, the bounded row).
 *
 * The bound counts held records only. Around them, at full speed, the process also holds the read buffer
 * and the request bodies of the sink's pool (one per request in flight plus one being encoded, each ~2x
 * its batch's file bytes once escaped into the envelope). With the defaults (16 MiB, 1 MiB batches,
 * 256 KiB reads) those are small next to the bound; a user who asked for 5 MiB got the same 1 MiB batches,
 * ~5 MB of pooled bodies next to the 5 MiB of records, and reads of ~1,350 lines at once: every record
 * outlived the young generation and was promoted, so the old space grew by a collection step each time
 * (measured in docs/benchmarks.md, "log-sidecar memory: wt/buffer": 84-87 -> 77 MiB peak at 5 MiB).
 * So a small bound makes batches and reads small too: a batch is at most a sixteenth of the bound in file
 * bytes (unless `--batch-max-bytes` was set) and a read at most a thirty-second. At the default bound
 * both are what they were.
 */

/** A batch holds at most this share of `--buffer-max-bytes` in file bytes (16 MiB -> the 1 MiB default). */
export const BATCH_SHARE_OF_BUFFER = 16;

/** A read is at most this share of `--buffer-max-bytes` (16 MiB -> 512 KiB, above the 256 KiB read). */
export const READ_SHARE_OF_BUFFER = 32;

/** The read buffer when the bound leaves room for it. */
export const READ_BUFFER_BYTES = 256 * 1024;

/**
 * The smallest read: below it a cold file costs a system call per few dozen lines. A line longer than a
 * read is carried over to the next one (LineFramer), never cut by it.
 */
export const MIN_READ_BUFFER_BYTES = 16 * 1024;

/** The smallest batch bound in file bytes (the smallest `--batch-max-bytes` accepted). */
export const MIN_BATCH_BYTES = 1024;

export interface BufferSizing {
  /** The batch bound the sinks get. */
  readonly batchMaxBytes: number;
  /** Bytes read from a file at a time. */
  readonly readBufferBytes: number;
  /** True when `batchMaxBytes` is below the `--batch-max-bytes` default it replaced. */
  readonly batchLowered: boolean;
}

/**
 * The batch and read sizes that follow from `--buffer-max-bytes`. `batchMaxBytes` is `--batch-max-bytes`;
 * when the user set it (`batchMaxBytesGiven`) it is kept as it is, otherwise it is lowered to the buffer's
 * share.
 */
export function sizeByBuffer(
  bufferMaxBytes: number,
  batchMaxBytes: number,
  batchMaxBytesGiven: boolean,
): BufferSizing {
  const batchShare = Math.max(MIN_BATCH_BYTES, Math.floor(bufferMaxBytes / BATCH_SHARE_OF_BUFFER));
  const readShare = Math.floor(bufferMaxBytes / READ_SHARE_OF_BUFFER);
  const lowered = !batchMaxBytesGiven && batchShare < batchMaxBytes;
  return {
    batchMaxBytes: lowered ? batchShare : batchMaxBytes,
    readBufferBytes: Math.min(READ_BUFFER_BYTES, Math.max(MIN_READ_BUFFER_BYTES, readShare)),
    batchLowered: lowered,
  };
}
