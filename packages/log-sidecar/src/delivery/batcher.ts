import type { HeldRecord } from './held-record.js';

export interface BatcherOptions {
  /** The most records a batch ever holds (`--batch-max-records`). */
  readonly maxRecords: number;
  /** The most bytes (the records' file bytes) a batch ever holds (`--batch-max-bytes`). */
  readonly maxBytes: number;
  /**
   * While the source keeps up with its files, a batch is sealed at this many records (at most
   * `maxRecords`): live lines are sent as soon as this many are there rather than held for a batch to fill.
   */
  readonly liveRecords: number;
  /** A batch is sealed this long after its first record at the latest. */
  readonly timeoutMs: number;
  /** Receives each sealed batch, in the order they were formed. */
  readonly onBatch: (items: HeldRecord[]) => void;
}

/**
 * Gathers one sink's records into batches. A batch is sealed at `maxRecords` or `maxBytes`, `timeoutMs`
 * after its first record, and, unless the source says more is already waiting to be read (a cold file, a
 * catch-up after an outage: see `sourceBehind`), at `liveRecords`. So a backlog goes out in few large
 * requests, which is what the receiver pays for, and live lines in batches no larger, and no later, than
 * the live size makes them; the records that wait are the ones that would have waited anyway. While
 * draining, what is open is sealed at the end of the current turn of the event loop instead of the
 * timeout. It knows nothing of sending (Vector's `lib/vector-stream/src/batcher/`).
 */
export class Batcher {
  readonly #options: BatcherOptions;
  readonly #liveRecords: number;
  #open: HeldRecord[] = [];
  #openBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushScheduled = false;
  #draining = false;
  #behind = false;

  constructor(options: BatcherOptions) {
    this.#options = options;
    this.#liveRecords = Math.max(1, Math.min(options.liveRecords, options.maxRecords));
  }

  /** Records not sealed into a batch yet. */
  get open(): readonly HeldRecord[] {
    return this.#open;
  }

  add(held: HeldRecord): void {
    this.#open.push(held);
    this.#openBytes += held.record.bytes;
    const count = this.#open.length;
    if (
      count >= this.#options.maxRecords ||
      this.#openBytes >= this.#options.maxBytes ||
      (!this.#behind && count >= this.#liveRecords)
    ) {
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

  /**
   * Whether more is already waiting to be read. When the source has caught up, a batch that grew past
   * the live size while it was behind is sealed now: nothing more is coming soon to fill it.
   */
  sourceBehind(behind: boolean): void {
    this.#behind = behind;
    if (!behind && this.#open.length >= this.#liveRecords) this.seal();
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
