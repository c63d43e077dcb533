import type { Logger } from '@agent-sidecars/shared';
import type { LogRecord } from '../record.js';
import type { SendResult, Sink } from '../sink/sink.js';
import type { Acknowledgement } from './delivery.js';
import type { SinkMetrics } from './delivery-metrics.js';
import type { HeldRecord } from './held-record.js';
import type { BatchAttempts, RetryPolicy } from './retry-policy.js';

export interface BatchDriverOptions {
  readonly sink: Sink;
  /** Position among the sinks: the driver's bit in HeldRecord.settled. */
  readonly index: number;
  readonly logger: Logger;
  readonly metrics: SinkMetrics;
  readonly maxInFlight: number;
  /**
   * Records in sealed batches waiting for a free request slot below which the driver wants more records.
   * Counted in records, not batches, so that a batch grown while the source was behind does not make the
   * read-ahead, and the memory it holds, grow with it.
   */
  readonly readAheadRecords: number;
  /** Takes each batch through its attempts until it is settled. */
  readonly retry: RetryPolicy;
  /** Aborted when delivery gives up: sends are cancelled, no batch starts. */
  readonly stop: AbortSignal;
  /** Called when the driver started a batch and wants more records (see `hungry`). */
  readonly onHungry: () => void;
  /** Called when a record's last sink settled it: it no longer counts against the buffer. */
  readonly release: (held: HeldRecord) => void;
  readonly ack: (ack: Acknowledgement) => void;
  /** Called after the acknowledged front of the window moved. */
  readonly afterAck: () => void;
}

class Batch {
  /**
   * Once settled, what the batch acknowledges: per file, the highest end offset in it. The records are
   * let go then: a batch that waits for an older one to settle (its ack is in order) keeps only this,
   * so a batch stuck in backoff at the front does not keep every later, delivered batch in memory.
   */
  acks: Map<string, number> | undefined;
  constructor(public items: HeldRecord[]) {}

  get done(): boolean {
    return this.acks !== undefined;
  }

  settle(): void {
    const acks = new Map<string, number>();
    for (const held of this.items) {
      const { fileKey, endOffset } = held.record;
      const seen = acks.get(fileKey);
      if (seen === undefined || endOffset > seen) acks.set(fileKey, endOffset);
    }
    this.acks = acks;
    this.items = [];
  }
}

const NO_STATUS = 'error';

/**
 * Drives one sink's sealed batches (Vector's `lib/vector-stream/src/driver.rs`): at most `maxInFlight`
 * requests open, each batch handed to the retry policy, and acknowledgements strictly in the order the
 * batches were formed, so a file's acks only ever move forward over settled records. It never retries.
 */
export class BatchDriver {
  readonly #options: BatchDriverOptions;
  readonly #name: string;
  readonly #bit: number;
  /** Sealed batches not yet started. */
  readonly #queued: Batch[] = [];
  #queuedRecords = 0;
  /** Sealed batches not yet acknowledged, in the order they were formed. */
  readonly #window: Batch[] = [];
  #inFlight = 0;
  readonly #attempts: BatchAttempts;

  constructor(options: BatchDriverOptions) {
    this.#options = options;
    this.#name = options.sink.name;
    this.#bit = 1 << options.index;
    this.#attempts = {
      send: (items) => this.#sendOnce(items),
      delivered: (items, bytes) => this.#settle(items, true, bytes),
      // Loss: the one log line and the counter together.
      rejected: (items, status, reason) => {
        this.#options.logger.error(
          { sink: this.#name, status, records: items.length, file: items[0]?.record.path, reason },
          'Sink rejected records; they are lost.',
        );
        this.#options.metrics.rejected(String(status ?? NO_STATUS), items.length);
        this.#settle(items, false, undefined);
      },
    };
  }

  get #stopped(): boolean {
    return this.#options.stop.aborted;
  }

  /** True while fewer than `readAheadRecords` records wait for a request slot (or delivery gave up). */
  get hungry(): boolean {
    return this.#queuedRecords < this.#options.readAheadRecords || this.#stopped;
  }

  /** No batch is waiting or unacknowledged. */
  get empty(): boolean {
    return this.#window.length === 0;
  }

  /** Records of unacknowledged batches this sink has not settled, oldest first. */
  unsettled(): HeldRecord[] {
    const out: HeldRecord[] = [];
    for (const batch of this.#window) {
      for (const held of batch.items) if ((held.settled & this.#bit) === 0) out.push(held);
    }
    return out;
  }

  /** Takes a sealed batch; it starts as soon as a request slot is free. */
  push(items: HeldRecord[]): void {
    const batch = new Batch(items);
    this.#queued.push(batch);
    this.#queuedRecords += items.length;
    this.#window.push(batch);
    this.#pump();
  }

  #pump(): void {
    let started = false;
    while (this.#inFlight < this.#options.maxInFlight && this.#queued.length > 0 && !this.#stopped) {
      const batch = this.#queued.shift()!;
      this.#queuedRecords -= batch.items.length;
      this.#inFlight++;
      started = true;
      void this.#run(batch);
    }
    if (started && this.hungry) this.#options.onHungry();
  }

  async #run(batch: Batch): Promise<void> {
    try {
      await this.#options.retry.deliver(batch.items, this.#attempts);
      if (!this.#stopped) {
        batch.settle();
        this.#acknowledge();
      }
    } catch (error) {
      // deliver() never throws by design; if it does, the batch stays unacked and shows in the drain report.
      this.#options.logger.error(
        { sink: this.#name, err: error },
        'Delivery loop failed; batch left unacknowledged.',
      );
    } finally {
      this.#inFlight--;
      this.#pump();
    }
  }

  async #sendOnce(items: readonly HeldRecord[]): Promise<SendResult> {
    const records = new Array<LogRecord>(items.length);
    for (let i = 0; i < items.length; i++) records[i] = items[i]!.record;
    const metrics = this.#options.metrics;
    metrics.inFlight.inc();
    metrics.batchRecords.observe(records.length);
    const started = performance.now();
    let result: SendResult;
    try {
      result = await this.#options.sink.send(records, this.#options.stop);
    } catch (error) {
      // The contract says send never rejects; a sink that does is treated as a connection error.
      result = { outcome: 'retryable', reason: `sink failed: ${(error as Error).message}` };
    } finally {
      metrics.inFlight.dec();
    }
    metrics.requestDuration.observe((performance.now() - started) / 1000);
    metrics.requests(statusLabel(result));
    return result;
  }

  #settle(items: readonly HeldRecord[], delivered: boolean, bytes: number | undefined): void {
    if (items.length === 0) return;
    const bit = this.#bit;
    const release = this.#options.release;
    const metrics = this.#options.metrics;
    const latency = metrics.latency;
    const now = Date.now();
    let recordBytes = 0;
    let count = 0;
    for (const held of items) {
      if ((held.settled & bit) !== 0) continue;
      held.settled |= bit;
      count++;
      if (delivered) {
        latency.observe((now - held.record.readAt) / 1000);
        recordBytes += held.record.bytes;
      }
      if (--held.pending === 0) release(held);
    }
    if (delivered) {
      metrics.recordsSent.inc(count);
      metrics.bytesSent.inc(bytes ?? recordBytes);
    }
  }

  /** Emits acks for the settled batches at the front of the window, one per file. */
  #acknowledge(): void {
    const window = this.#window;
    if (window[0]?.done !== true) return;
    const highest = new Map<string, number>();
    while (window.length > 0 && window[0]!.done) {
      for (const [fileKey, endOffset] of window.shift()!.acks!) {
        const seen = highest.get(fileKey);
        if (seen === undefined || endOffset > seen) highest.set(fileKey, endOffset);
      }
    }
    for (const [fileKey, endOffset] of highest) this.#options.ack({ sink: this.#name, fileKey, endOffset });
    this.#options.afterAck();
  }
}

function statusLabel(result: SendResult): string {
  if ('status' in result && result.status !== undefined) return String(result.status);
  switch (result.outcome) {
    case 'delivered':
    case 'partial':
      return 'ok';
    case 'too-large':
      return 'too-large';
    default:
      return NO_STATUS;
  }
}
