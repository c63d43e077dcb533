import { ConfigError } from '@agent-sidecars/shared';

/**
 * The share of V8's heap limit the record buffer may take. A held record costs ~0.9x what the bound
 * counts for it (measured on Node 20 and 24: ~400 B of heap for a 193-byte line counted as 449 B); the
 * rest of the heap holds the batch being encoded, the request bodies in flight, the records of the read
 * that filled the bound, code and the process's own objects, and V8 needs room to collect garbage before
 * the limit. Half leaves that room with a margin, so reaching the bound pauses reading instead of
 * ending the process with "JavaScript heap out of memory".
 */
export const BUFFER_HEAP_SHARE = 0.5;

const MiB = 1024 * 1024;

/**
 * Throws a ConfigError when `--buffer-max-bytes` does not fit in the heap V8 was given
 * (`v8.getHeapStatistics().heap_size_limit`: NODE_OPTIONS `--max-old-space-size`, or what Node derives
 * from the container's memory limit).
 */
export function checkBufferFitsHeap(
  bufferMaxBytes: number,
  heapLimitBytes: number,
  option: string,
  written: string | undefined,
): void {
  const allowed = Math.floor(heapLimitBytes * BUFFER_HEAP_SHARE);
  if (bufferMaxBytes <= allowed) return;
  throw new ConfigError(
    option,
    written,
    `is more than half of this process's V8 heap limit (${(heapLimitBytes / MiB).toFixed(0)} MiB): at the bound the sidecar would run out of heap instead of pausing reading`,
    `give at most ${Math.floor(allowed / MiB)}MiB, or raise --max-old-space-size in NODE_OPTIONS (and the container's memory limit with it)`,
  );
}
