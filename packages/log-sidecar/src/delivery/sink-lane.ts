import { BatchDriver, type BatchDriverOptions } from './batch-driver.js';
import { Batcher } from './batcher.js';
import type { HeldRecord } from './held-record.js';
import { RetryPolicy, type RetrySettings } from './retry-policy.js';

export interface SinkLaneOptions
  extends Pick<
    BatchDriverOptions,
    'sink' | 'index' | 'logger' | 'metrics' | 'maxInFlight' | 'onHungry' | 'release' | 'ack'
  > {
  readonly batchMaxRecords: number;
  readonly batchMaxBytes: number;
  /** Records at which a batch is sealed while the source keeps up (see Batcher's `liveRecords`). */
  readonly batchLiveRecords: number;
  readonly batchTimeoutMs: number;
  /** Read-ahead, in batches of the live size: see BatchDriver's `readAheadRecords`. */
  readonly readAheadBatches: number;
  readonly retry: RetrySettings;
  readonly random?: () => number;
}

/** One sink's way through the delivery: batcher -> driver -> retry policy -> sink.send. */
export class SinkLane {
  readonly name: string;
  readonly #batcher: Batcher;
  readonly #driver: BatchDriver;
  readonly #retry: RetryPolicy;
  readonly #onHungry: () => void;
  readonly #bit: number;
  /** Aborted when delivery gives up (deadline or close): sends are cancelled, loops end. */
  readonly #stop = new AbortController();
  #idleWaiters: (() => void)[] = [];

  constructor(options: SinkLaneOptions) {
    this.name = options.sink.name;
    this.#bit = 1 << options.index;
    this.#onHungry = options.onHungry;
    this.#retry = new RetryPolicy({
      sinkName: this.name,
      settings: options.retry,
      logger: options.logger,
      retries: options.metrics.retries,
      stop: this.#stop.signal,
      random: options.random,
    });
    this.#driver = new BatchDriver({
      sink: options.sink,
      index: options.index,
      logger: options.logger,
      metrics: options.metrics,
      maxInFlight: options.maxInFlight,
      readAheadRecords:
        options.readAheadBatches * Math.min(options.batchLiveRecords, options.batchMaxRecords),
      retry: this.#retry,
      stop: this.#stop.signal,
      onHungry: options.onHungry,
      release: options.release,
      ack: options.ack,
      afterAck: () => this.#wakeIdle(),
    });
    this.#batcher = new Batcher({
      maxRecords: options.batchMaxRecords,
      maxBytes: options.batchMaxBytes,
      liveRecords: options.batchLiveRecords,
      timeoutMs: options.batchTimeoutMs,
      onBatch: (items) => this.#driver.push(items),
    });
  }

  get stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  add(held: HeldRecord): void {
    this.#batcher.add(held);
  }

  /** Whether the source has more waiting to be read: batches fill to their limits while it has. */
  sourceBehind(behind: boolean): void {
    // Once given up, what is open belongs to the deadline spill: nothing is sealed for sending any more.
    if (!this.stopped) this.#batcher.sourceBehind(behind);
  }

  startDrain(): void {
    this.#batcher.startDrain();
    this.#retry.startDrain();
  }

  giveUp(): void {
    this.#batcher.stop();
    this.#stop.abort();
    this.#onHungry();
  }

  /**
   * True while few sealed batches wait for a request slot (or the lane gave up): records read now would
   * soon be sent. Reading further ahead than that only holds records longer, in memory and through
   * garbage collections, without sending anything sooner.
   */
  get hungry(): boolean {
    return this.#driver.hungry;
  }

  get idle(): boolean {
    return this.#batcher.open.length === 0 && this.#driver.empty;
  }

  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Records this sink has not settled, oldest first. */
  unsettled(): HeldRecord[] {
    const out = this.#driver.unsettled();
    for (const held of this.#batcher.open) if ((held.settled & this.#bit) === 0) out.push(held);
    return out;
  }

  #wakeIdle(): void {
    if (!this.idle) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
