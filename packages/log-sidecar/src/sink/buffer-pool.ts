/**
 * Request bodies to encode batches into, used again once a request is done with them. At full speed a
 * sink encodes a 2-5 MB body every few milliseconds; each one, allocated fresh, lives as long as its
 * request, so it is promoted out of the young generation and its memory is given back only by a full
 * collection (V8 lets up to 64 MiB of such external memory pile up first), and glibc keeps the freed
 * blocks in its heap. Measured (docs/benchmarks.md, "log-sidecar memory: wt/logmem"): 13-14 MiB of
 * ArrayBuffers and 12-15 MiB of malloc heap at the peak, most of it dead bodies.
 *
 * A body goes back to the pool only when whoever sent it knows no one reads it any more (`give`); a
 * buffer not given back is left to the garbage collector as before, so a missed `give` costs memory, never
 * bytes. Free buffers are dropped after `idleMs` without use, so a burst does not pin its bodies for the
 * life of the process.
 */
export class BufferPool {
  readonly #keep: number;
  readonly #maxBytes: number;
  readonly #idleMs: number;
  /** Free buffers, any order. */
  readonly #free: ArrayBuffer[] = [];
  /** Buffers handed out and not given back: only these are taken back (a foreign one is ignored). */
  readonly #out = new WeakSet<ArrayBuffer>();
  #timer: NodeJS.Timeout | undefined;

  /**
   * `keep`: free buffers kept at most (the requests in flight, plus one being encoded); `maxBytes`: a
   * buffer larger than this is never kept; `idleMs`: free buffers are dropped after this long unused.
   */
  constructor(keep: number, maxBytes: number, idleMs = 5000) {
    this.#keep = Math.max(1, keep);
    this.#maxBytes = maxBytes;
    this.#idleMs = idleMs;
  }

  /** A buffer of at least `size` bytes (its content is whatever it held before). */
  take(size: number): Buffer {
    let best = -1;
    for (let i = 0; i < this.#free.length; i++) {
      const length = this.#free[i]!.byteLength;
      if (length >= size && (best < 0 || length < this.#free[best]!.byteLength)) best = i;
    }
    let memory: ArrayBuffer;
    if (best >= 0) {
      memory = this.#free[best]!;
      this.#free[best] = this.#free[this.#free.length - 1]!;
      this.#free.pop();
    } else {
      // Its own ArrayBuffer (never a slice of Node's shared pool), so the whole of it can be given back.
      memory = Buffer.allocUnsafeSlow(size).buffer as ArrayBuffer;
    }
    this.#out.add(memory);
    return Buffer.from(memory);
  }

  /**
   * Takes back a buffer `take` returned (or a view of one) that nothing reads any more. Anything else is
   * ignored, and so is a second `give` of the same buffer.
   */
  give(buffer: Buffer): void {
    const memory = buffer.buffer as ArrayBuffer;
    if (!this.#out.has(memory)) return;
    this.#out.delete(memory);
    if (memory.byteLength > this.#maxBytes) return;
    if (this.#free.length >= this.#keep) {
      // Keep the larger ones: bodies grow with the batches, a small one is cheap to allocate again.
      let smallest = 0;
      for (let i = 1; i < this.#free.length; i++) {
        if (this.#free[i]!.byteLength < this.#free[smallest]!.byteLength) smallest = i;
      }
      if (this.#free[smallest]!.byteLength >= memory.byteLength) return;
      this.#free[smallest] = memory;
    } else {
      this.#free.push(memory);
    }
    this.#armIdle();
  }

  /** Bytes held in free buffers (for tests and the benchmark's accounting). */
  get freeBytes(): number {
    let total = 0;
    for (const memory of this.#free) total += memory.byteLength;
    return total;
  }

  /** Drops every free buffer and the idle timer. */
  clear(): void {
    this.#free.length = 0;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #armIdle(): void {
    if (this.#timer !== undefined) {
      this.#timer.refresh();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#free.length = 0;
    }, this.#idleMs);
    this.#timer.unref();
  }
}
