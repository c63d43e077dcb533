import type { HeldRecord } from './held-record.js';

export interface BatcherOptions {
  readonly maxRecords: number;
  readonly maxBytes: number;
  /** A batch is sealed this long after its first record at the latest. */
  readonly timeoutMs: number;
  /** Receives each sealed batch, in the order they were formed. */
  readonly onBatch: (items: HeldRecord[]) => void;
}

/**
 * Gathers one sink's records into batches: sealed at `maxRecords`, at `maxBytes`, or `timeoutMs` after
 * the first record; while draining, at the end of the current turn of the event loop instead of the
 * timeout. It knows nothing of sending (Vector's `lib/vector-stream/src/batcher/`).
 */
export class Batcher {
  readonly #options: BatcherOptions;
  #open: HeldRecord[] = [];
  #openBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushScheduled = false;
  #draining = false;

  constructor(options: BatcherOptions) {
    this.#options = options;
  }

  /** Records not sealed into a batch yet. */
  get open(): readonly HeldRecord[] {
    return this.#open;
  }

  add(held: HeldRecord): void {
    this.#open.push(held);
    this.#openBytes += held.record.bytes;
    if (this.#open.length >= this.#options.maxRecords || this.#openBytes >= this.#options.maxBytes) {
      this.seal();
    } else if (this.#draining) {
      // Records still arriving while draining go out together, without waiting for a batch timeout.
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => {
          this.#flushScheduled = false;
          this.seal();
        });
      }
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.seal();
      }, this.#options.timeoutMs);
    }
  }

  /** Seals what is open now; from now on, no batch waits for its timeout. */
  startDrain(): void {
    this.#draining = true;
    this.seal();
  }

  /** Stops the timeout: nothing more is sealed by time. */
  stop(): void {
    this.#clearTimer();
  }

  seal(): void {
    this.#clearTimer();
    if (this.#open.length === 0) return;
    const items = this.#open;
    this.#open = [];
    this.#openBytes = 0;
    this.#options.onBatch(items);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }
}
