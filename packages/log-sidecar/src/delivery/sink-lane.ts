import { type BackoffPolicy, fullJitterBackoff, type Logger, sleep } from '@agent-sidecars/shared';
import type { LogRecord } from '../record.js';
import type { SendResult, Sink } from '../sink/sink.js';
import type { Acknowledgement } from './delivery.js';
import type { SinkMetrics } from './delivery-metrics.js';

/**
 * A record held by the delivery until every sink it was accepted for has settled it. `pending` counts
 * those sinks; `settled` has one bit per sink (by lane index) so a drain can tell what each sink still owes.
 */
export interface HeldRecord {
  readonly record: LogRecord;
  pending: number;
  settled: number;
}

export interface RetryPolicy extends BackoffPolicy {
  /** Backoff while draining: short, so the deadline is used for attempts rather than sleeps. */
  readonly drain: BackoffPolicy;
  /** Attempts before a batch is rejected as lost; unlimited when undefined (at-least-once). */
  readonly maxAttempts: number | undefined;
  /** The longest Retry-After honoured, so a server cannot park delivery for hours. */
  readonly maxRetryAfterMs: number;
}

export interface SinkLaneOptions {
  readonly sink: Sink;
  /** Position among the sinks: the lane's bit in HeldRecord.settled. */
  readonly index: number;
  readonly logger: Logger;
  readonly metrics: SinkMetrics;
  readonly batchMaxRecords: number;
  readonly batchMaxBytes: number;
  readonly batchTimeoutMs: number;
  readonly maxInFlight: number;
  readonly retry: RetryPolicy;
  /** Sealed batches waiting for a free request slot below which the lane wants more records. */
  readonly readAheadBatches: number;
  /** Called when the lane started a batch and wants more records (see `hungry`). */
  readonly onHungry: () => void;
  /** Called when a record's last sink settled it: it no longer counts against the buffer. */
  readonly release: (held: HeldRecord) => void;
  readonly ack: (ack: Acknowledgement) => void;
  readonly random?: () => number;
}

class Batch {
  done = false;
  constructor(readonly items: HeldRecord[]) {}
}

const NO_STATUS = 'error';

/**
 * Everything the driver does for one sink: gathers records into batches (count, bytes, age), keeps at
 * most `maxInFlight` requests open, retries with full-jitter backoff and Retry-After, splits on 413,
 * and acknowledges batches strictly in the order they were formed, so a file's acks only ever move
 * forward over settled records.
 */
export class SinkLane {
  readonly name: string;
  private readonly bit: number;
  private open: HeldRecord[] = [];
  private openBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushScheduled = false;
  /** Sealed batches not yet started. */
  private readonly queued: Batch[] = [];
  /** Sealed batches not yet acknowledged, in the order they were formed. */
  private readonly window: Batch[] = [];
  private inFlight = 0;
  private draining = false;
  private failing = false;
  /** Aborted when draining starts: backoff sleeps end at once. */
  private readonly wake = new AbortController();
  /** Aborted when delivery gives up (deadline or close): sends are cancelled, loops end. */
  private readonly stop = new AbortController();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: SinkLaneOptions) {
    this.name = options.sink.name;
    this.bit = 1 << options.index;
  }

  get stopped(): boolean {
    return this.stop.signal.aborted;
  }

  add(held: HeldRecord): void {
    this.open.push(held);
    this.openBytes += held.record.bytes;
    if (this.open.length >= this.options.batchMaxRecords || this.openBytes >= this.options.batchMaxBytes) {
      this.seal();
    } else if (this.draining) {
      // Records still arriving while draining go out together, without waiting for a batch timeout.
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.seal();
        });
      }
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.seal();
      }, this.options.batchTimeoutMs);
    }
  }

  startDrain(): void {
    this.draining = true;
    this.seal();
    this.wake.abort();
  }

  giveUp(): void {
    this.clearTimer();
    this.wake.abort();
    this.stop.abort();
    this.options.onHungry();
  }

  /**
   * True while fewer than `readAheadBatches` sealed batches wait for a request slot (or the lane gave up):
   * records read now would soon be sent. Reading further ahead than that only holds records longer,
   * in memory and through garbage collections, without sending anything sooner.
   */
  get hungry(): boolean {
    return this.queued.length < this.options.readAheadBatches || this.stopped;
  }

  get idle(): boolean {
    return this.open.length === 0 && this.window.length === 0;
  }

  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Records this sink has not settled, oldest first. */
  unsettled(): HeldRecord[] {
    const out: HeldRecord[] = [];
    for (const batch of this.window) {
      for (const held of batch.items) if ((held.settled & this.bit) === 0) out.push(held);
    }
    for (const held of this.open) if ((held.settled & this.bit) === 0) out.push(held);
    return out;
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private seal(): void {
    this.clearTimer();
    if (this.open.length === 0) return;
    const batch = new Batch(this.open);
    this.open = [];
    this.openBytes = 0;
    this.queued.push(batch);
    this.window.push(batch);
    this.pump();
  }

  private pump(): void {
    let started = false;
    while (this.inFlight < this.options.maxInFlight && this.queued.length > 0 && !this.stopped) {
      const batch = this.queued.shift()!;
      this.inFlight++;
      started = true;
      void this.run(batch);
    }
    if (started && this.hungry) this.options.onHungry();
  }

  private async run(batch: Batch): Promise<void> {
    try {
      await this.deliver(batch.items);
      if (!this.stopped) {
        batch.done = true;
        this.acknowledge();
      }
    } catch (error) {
      // deliver() never throws by design; if it does, the batch stays unacked and shows in the drain report.
      this.options.logger.error(
        { sink: this.name, err: error },
        'Delivery loop failed; batch left unacknowledged.',
      );
    } finally {
      this.inFlight--;
      this.pump();
    }
  }

  /** Sends until every item is settled (delivered or rejected) or the lane gives up. */
  private async deliver(items: HeldRecord[]): Promise<void> {
    let remaining = items;
    let attempts = 0;
    while (remaining.length > 0 && !this.stopped) {
      const result = await this.sendOnce(remaining);
      attempts++;
      let retryAfterMs: number | undefined;
      let reason: string;
      switch (result.outcome) {
        case 'delivered':
          this.recovered();
          this.settle(remaining, true, result.bytes);
          return;
        case 'rejected':
          this.recovered();
          this.reject(remaining, result.status, result.reason);
          return;
        case 'too-large': {
          this.recovered();
          if (remaining.length === 1) {
            this.reject(remaining, result.status ?? 413, `record alone is too large: ${result.reason}`);
            return;
          }
          const half = Math.ceil(remaining.length / 2);
          await this.deliver(remaining.slice(0, half));
          await this.deliver(remaining.slice(half));
          return;
        }
        case 'partial': {
          remaining = this.applyPartial(remaining, result);
          if (remaining.length === 0) return;
          retryAfterMs = result.retryAfterMs;
          reason = `${remaining.length} bulk items to retry`;
          break;
        }
        case 'retryable':
          retryAfterMs = result.retryAfterMs;
          reason = result.reason;
          this.failed(result, remaining.length);
          break;
      }
      if (this.stopped) return;
      const limit = this.options.retry.maxAttempts;
      if (limit !== undefined && attempts >= limit) {
        this.reject(remaining, undefined, `gave up after ${attempts} attempts: ${reason}`);
        return;
      }
      this.options.metrics.retries.inc();
      await this.pause(attempts - 1, retryAfterMs, reason);
    }
  }

  private async sendOnce(items: readonly HeldRecord[]): Promise<SendResult> {
    const records = new Array<LogRecord>(items.length);
    for (let i = 0; i < items.length; i++) records[i] = items[i]!.record;
    const metrics = this.options.metrics;
    metrics.inFlight.inc();
    metrics.batchRecords.observe(records.length);
    const started = performance.now();
    let result: SendResult;
    try {
      result = await this.options.sink.send(records, this.stop.signal);
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

  private async pause(attempt: number, retryAfterMs: number | undefined, reason: string): Promise<void> {
    const retry = this.options.retry;
    const policy = this.draining ? retry.drain : retry;
    const backoff = fullJitterBackoff(attempt, policy, this.options.random);
    const asked = Math.min(retryAfterMs ?? 0, this.draining ? retry.drain.maxMs : retry.maxRetryAfterMs);
    const waitMs = Math.max(backoff, asked);
    this.options.logger.debug({ sink: this.name, attempt: attempt + 1, waitMs, reason }, 'Retrying batch.');
    await sleep(waitMs, this.draining ? this.stop.signal : this.wake.signal);
  }

  private applyPartial(
    items: HeldRecord[],
    result: Extract<SendResult, { outcome: 'partial' }>,
  ): HeldRecord[] {
    const state = new Uint8Array(items.length); // 0 delivered, 1 retry, 2 rejected
    for (const index of result.retry) if (index >= 0 && index < items.length) state[index] = 1;
    const rejectedByStatus = new Map<string, { items: HeldRecord[]; reason: string; status?: number }>();
    for (const item of result.rejected) {
      if (item.index < 0 || item.index >= items.length || state[item.index] === 2) continue;
      state[item.index] = 2;
      const key = String(item.status ?? NO_STATUS);
      let group = rejectedByStatus.get(key);
      if (!group) {
        group = { items: [], reason: item.reason, status: item.status };
        rejectedByStatus.set(key, group);
      }
      group.items.push(items[item.index]!);
    }
    const delivered: HeldRecord[] = [];
    const retry: HeldRecord[] = [];
    for (let i = 0; i < items.length; i++) {
      if (state[i] === 0) delivered.push(items[i]!);
      else if (state[i] === 1) retry.push(items[i]!);
    }
    this.settle(delivered, true, result.bytes);
    for (const group of rejectedByStatus.values()) this.reject(group.items, group.status, group.reason);
    return retry;
  }

  private reject(items: readonly HeldRecord[], status: number | undefined, reason: string): void {
    this.options.logger.error(
      { sink: this.name, status, records: items.length, file: items[0]?.record.path, reason },
      'Sink rejected records; they are lost.',
    );
    this.options.metrics.rejected(String(status ?? NO_STATUS), items.length);
    this.settle(items, false, undefined);
  }

  private settle(items: readonly HeldRecord[], delivered: boolean, bytes: number | undefined): void {
    if (items.length === 0) return;
    const bit = this.bit;
    const release = this.options.release;
    const metrics = this.options.metrics;
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

  private failed(result: Extract<SendResult, { outcome: 'retryable' }>, records: number): void {
    if (this.failing || this.stopped) return;
    this.failing = true;
    this.options.logger.warn(
      { sink: this.name, status: result.status, reason: result.reason, records },
      'Sink is failing; retrying with backoff until it answers.',
    );
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.options.logger.info({ sink: this.name }, 'Sink recovered.');
  }

  /** Emits acks for the settled batches at the front of the window, one per file. */
  private acknowledge(): void {
    if (this.window[0]?.done !== true) return;
    let lastKey: string | undefined;
    let lastOffset = 0;
    let others: Map<string, number> | undefined;
    while (this.window.length > 0 && this.window[0]!.done) {
      const batch = this.window.shift()!;
      for (const held of batch.items) {
        const { fileKey, endOffset } = held.record;
        if (fileKey === lastKey) {
          if (endOffset > lastOffset) lastOffset = endOffset;
          continue;
        }
        if (lastKey !== undefined) {
          others ??= new Map();
          const seen = others.get(lastKey);
          if (seen === undefined || lastOffset > seen) others.set(lastKey, lastOffset);
        }
        lastKey = fileKey;
        lastOffset = Math.max(endOffset, others?.get(fileKey) ?? 0);
      }
    }
    if (lastKey !== undefined) {
      others ??= new Map();
      others.set(lastKey, Math.max(lastOffset, others.get(lastKey) ?? 0));
    }
    if (others)
      for (const [fileKey, endOffset] of others) this.options.ack({ sink: this.name, fileKey, endOffset });
    if (this.idle) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
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
