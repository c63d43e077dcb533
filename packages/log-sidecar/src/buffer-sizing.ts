/**
 * How `--buffer-max-bytes` sizes the read buffer (issue 16, the bounded row).
 *
 * The bound counts held records only; a read is framed in one go, so one 256 KiB read puts ~1,350 of the
 * benchmark's lines into the pipeline at once, on top of what the bound already holds, and they all live
 * until their batch is acknowledged. With a 16 MiB bound that is a sixtieth of it; with 5 MiB a fifth, and
 * at full speed it measured 3-7 MiB of peak RSS (docs/benchmarks.md, "log-sidecar memory: wt/buffer"). So a
 * read is at most a thirty-second of the bound: 160 KiB at 5 MiB, the 256 KiB it was from 8 MiB up.
 *
 * Batches were sized from the bound too (a sixteenth, in file bytes) and measured: 3 MiB less again on the
 * host's Node 20, but 2-9 MiB more on the image's Node 24 (its malloc heap grew with the 3x as many
 * requests) at 1.16x the CPU, so batches follow `--batch-max-bytes` alone.
 */

/** A read is at most this share of `--buffer-max-bytes`. */
export const READ_SHARE_OF_BUFFER = 32;

/** The read buffer when the bound leaves room for it (from an 8 MiB bound up). */
export const READ_BUFFER_BYTES = 256 * 1024;

/**
 * The smallest read: below it a cold file costs a system call per few dozen lines. A line longer than a
 * read is carried over to the next one (LineFramer), never cut by it.
 */
export const MIN_READ_BUFFER_BYTES = 16 * 1024;

/** Bytes read from a file at a time, for a `--buffer-max-bytes` of `bufferMaxBytes`. */
export function readBufferBytesFor(bufferMaxBytes: number): number {
  const share = Math.floor(bufferMaxBytes / READ_SHARE_OF_BUFFER);
  return Math.min(READ_BUFFER_BYTES, Math.max(MIN_READ_BUFFER_BYTES, share));
}
