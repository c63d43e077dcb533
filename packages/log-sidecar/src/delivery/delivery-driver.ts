import type { Writable } from 'node:stream';
import type { Logger } from '@agent-sidecars/shared';
import type { Registry } from 'prom-client';
import type { LogRecord } from '../record.js';
import type { Sink } from '../sink/sink.js';
import { DeadlineSpill, type SpillOutcome } from './deadline-spill.js';
import type { Acknowledgement, Delivery, DrainReport, UndeliveredEntry } from './delivery.js';
import { DeliveryMetrics } from './delivery-metrics.js';
import type { HeldRecord } from './held-record.js';
import type { RetrySettings } from './retry-policy.js';
import { SinkLane } from './sink-lane.js';

export type OnDeadline = 'stdout' | 'drop';

export interface DeliveryOptions {
  /** In configuration order; names must be unique (they key checkpoints and metrics). */
  readonly sinks: readonly Sink[];
  readonly logger: Logger;
  readonly registry: Registry;
  /**
   * Above this many bytes of held records (their text plus RECORD_OVERHEAD_BYTES each: an estimate of
   * their memory), `accept` returns false and reading should pause.
   */
  readonly bufferMaxBytes: number;
  readonly batchMaxRecords: number;
  readonly batchMaxBytes: number;
  readonly batchTimeoutMs: number;
  /**
   * Records at which a batch is sealed while the source keeps up with its files. Default
   * LIVE_BATCH_RECORDS (1000), or `batchMaxRecords` if smaller.
   */
  readonly batchLiveRecords?: number;
  /**
   * Reading pauses while every sink has this many live-sized batches' worth of records in sealed batches
   * waiting for a request slot, even below `bufferMaxBytes`. Default READ_AHEAD_BATCHES (3).
   */
  readonly readAheadBatches?: number;
  /** Requests open at once per sink. Default 2. */
  readonly maxInFlight?: number;
  /** What happens at the drain deadline to records a sink still owes. Default stdout. */
  readonly onDeadline?: OnDeadline;
  /** Where `onDeadline: stdout` writes (process.stdout in the binary). */
  readonly stdout?: Writable;
  /** Backoff between attempts. Default 1 s .. 30 s. */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** Attempts before a batch is given up as rejected. Default unlimited. */
  readonly retryMaxAttempts?: number;
  readonly random?: () => number;
  readonly now?: () => number;
}

/**
 * What a held record costs in memory besides its text: the record and hold objects, its id and numbers,
 * its place in a batch (about 210 bytes measured on Node 20 with the benchmark's lines). The buffer bound
 * counts this too, so `--buffer-max-bytes` bounds memory rather than file bytes: with ~200-byte lines,
 * file bytes alone undercount the heap by half.
 */
export const RECORD_OVERHEAD_BYTES = 256;

function heldCost(record: LogRecord): number {
  return record.bytes + RECORD_OVERHEAD_BYTES;
}

/**
 * The size of a batch while the source keeps up: live lines go out once this many are there. Larger
 * batches, up to `--batch-max-records` / `--batch-max-bytes`, form only while more is already waiting to
 * be read. At 10,000 lines/s, batches that filled to 10,000 records would hold every line up to the batch
 * timeout; 1000 was the previous fixed default (issue 16).
 */
export const LIVE_BATCH_RECORDS = 1000;

/**
 * Sealed batches (of the live size; counted in records) a sink may have waiting for a request slot
 * before reading pauses. With the benchmark's
 * ndjson sink (2 in flight, 1000-record batches): 2 left the sink waiting for records at times, 3 was the
 * fastest, 16 (reading up to the 16 MiB bound) was slower and used 90 MiB more memory.
 */
export const READ_AHEAD_BATCHES = 3;

const DRAIN_BACKOFF = { baseMs: 50, maxMs: 500 };
const MAX_SINKS = 30;

/** Builds the sink side of the pipeline: one lane per sink behind a shared, bounded buffer. */
export function createDelivery(options: DeliveryOptions): Delivery {
  return new DeliveryDriver(options);
}

class DeliveryDriver implements Delivery {
  readonly sinkNames: readonly string[];
  private readonly lanes: SinkLane[];
  private readonly laneByName = new Map<string, SinkLane>();
  private readonly listeners: ((ack: Acknowledgement) => void)[] = [];
  private readonly writableWaiters: (() => void)[] = [];
  private readonly logger: Logger;
  private readonly now: () => number;
  private buffered = 0;
  private drainPromise: Promise<DrainReport> | undefined;
  /** Set when the drain gave up with `--on-deadline stdout`: from then on, accepted records go to stdout. */
  private spill: DeadlineSpill | undefined;
  private closed = false;
  private readonly metrics: DeliveryMetrics;

  constructor(private readonly options: DeliveryOptions) {
    const names = options.sinks.map((sink) => sink.name);
    if (names.length === 0) throw new Error('createDelivery needs at least one sink');
    if (names.length > MAX_SINKS) throw new Error(`createDelivery takes at most ${MAX_SINKS} sinks`);
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    if (duplicate !== undefined)
      throw new Error(`two sinks are named "${duplicate}"; give each a unique name`);
    for (const [key, value] of Object.entries({
      bufferMaxBytes: options.bufferMaxBytes,
      batchMaxRecords: options.batchMaxRecords,
      batchMaxBytes: options.batchMaxBytes,
      maxInFlight: options.maxInFlight ?? 2,
    })) {
      if (!(value >= 1)) throw new Error(`createDelivery: ${key} must be at least 1, got ${value}`);
    }
    this.sinkNames = Object.freeze(names);
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    const metrics = new DeliveryMetrics(options.registry, () => this.buffered);
    this.metrics = metrics;
    const retry: RetrySettings = {
      baseMs: options.retryBaseMs ?? 1000,
      maxMs: options.retryMaxMs ?? 30_000,
      drain: DRAIN_BACKOFF,
      maxAttempts: options.retryMaxAttempts,
      maxRetryAfterMs: Math.max(options.retryMaxMs ?? 30_000, 300_000),
    };
    this.lanes = options.sinks.map(
      (sink, index) =>
        new SinkLane({
          sink,
          index,
          logger: options.logger,
          metrics: metrics.forSink(sink.name),
          batchMaxRecords: options.batchMaxRecords,
          batchMaxBytes: options.batchMaxBytes,
          batchLiveRecords: options.batchLiveRecords ?? LIVE_BATCH_RECORDS,
          batchTimeoutMs: Math.max(0, options.batchTimeoutMs),
          maxInFlight: options.maxInFlight ?? 2,
          retry,
          readAheadBatches: options.readAheadBatches ?? READ_AHEAD_BATCHES,
          onHungry: () => this.wakeIfWritable(),
          release: (held) => this.release(held),
          ack: (ack) => {
            for (const listener of this.listeners) listener(ack);
          },
          random: options.random,
        }),
    );
    for (const lane of this.lanes) this.laneByName.set(lane.name, lane);
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  get bufferFull(): boolean {
    return this.buffered >= this.options.bufferMaxBytes;
  }

  get spillsAtDeadline(): boolean {
    return (this.options.onDeadline ?? 'stdout') === 'stdout' && this.options.stdout !== undefined;
  }

  accept(record: LogRecord, sinks?: readonly string[]): boolean {
    if (this.spill !== undefined) {
      this.spill.add(record);
      return this.spill.writable;
    }
    if (sinks === undefined) {
      const held: HeldRecord = { record, pending: this.lanes.length, settled: 0 };
      this.buffered += heldCost(record);
      for (const lane of this.lanes) lane.add(held);
    } else {
      const lanes: SinkLane[] = [];
      for (const name of sinks) {
        const lane = this.laneByName.get(name);
        if (lane === undefined)
          throw new Error(`accept: unknown sink "${name}"; sinks are ${this.sinkNames.join(', ')}`);
        if (!lanes.includes(lane)) lanes.push(lane);
      }
      if (lanes.length > 0) {
        const held: HeldRecord = { record, pending: lanes.length, settled: 0 };
        this.buffered += heldCost(record);
        for (const lane of lanes) lane.add(held);
      }
    }
    return this.writable();
  }

  /**
   * Room in the memory bound, and a sink that wants records. The second keeps read-ahead short when the
   * sinks are the bottleneck: with the benchmark's ndjson sink, 3 batches read ahead instead of 16 MiB was
   * both faster (~380k vs ~310k lines/s) and smaller (peak RSS ~140 vs ~228 MiB), because records sent soon
   * after being read die young instead of being promoted and collected by full garbage collections.
   */
  private writable(): boolean {
    if (this.bufferFull) return false;
    for (const lane of this.lanes) if (lane.hungry) return true;
    return false;
  }

  whenWritable(): Promise<void> {
    if (this.spill !== undefined) return this.spill.whenWritable();
    if (this.closed || this.writable()) return Promise.resolve();
    return new Promise((resolve) => this.writableWaiters.push(resolve));
  }

  onAck(listener: (ack: Acknowledgement) => void): void {
    this.listeners.push(listener);
  }

  sourceBehind(behind: boolean): void {
    for (const lane of this.lanes) lane.sourceBehind(behind);
  }

  startDrain(): void {
    for (const lane of this.lanes) lane.startDrain();
  }

  drain(deadline: number): Promise<DrainReport> {
    this.drainPromise ??= this.runDrain(deadline);
    return this.drainPromise;
  }

  async finishSpill(deadline: number): Promise<SpillOutcome | undefined> {
    const outcome = await this.spill?.finish(deadline);
    if (outcome === undefined) return undefined;
    this.metrics.spilled.inc(outcome.records);
    if (outcome.complete)
      this.logger.warn({ records: outcome.records }, 'Wrote undelivered records to stdout.');
    else {
      this.logger.error(
        { records: outcome.records, reason: outcome.reason },
        'Could not write every undelivered record to stdout by the deadline.',
      );
    }
    return outcome;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const lane of this.lanes) lane.giveUp();
    this.wakeWriters();
    await Promise.all(
      this.options.sinks.map((sink) =>
        sink.close().catch((error: Error) => {
          this.logger.warn({ sink: sink.name, err: error.message }, 'Sink did not close cleanly.');
        }),
      ),
    );
  }

  private release(held: HeldRecord): void {
    this.buffered -= heldCost(held.record);
    this.wakeIfWritable();
  }

  private wakeIfWritable(): void {
    if (this.writableWaiters.length > 0 && this.writable()) this.wakeWriters();
  }

  private wakeWriters(): void {
    const waiters = this.writableWaiters.splice(0);
    for (const resolve of waiters) resolve();
  }

  private async runDrain(deadline: number): Promise<DrainReport> {
    const start = this.now();
    this.startDrain();

    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      Promise.all(this.lanes.map((lane) => lane.whenIdle())).then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, deadline - start));
      }),
    ]);
    clearTimeout(timer);
    if (finished) {
      this.logger.info({ sinks: this.sinkNames }, 'Every record was delivered before the deadline.');
      return { complete: true, undelivered: [] };
    }

    for (const lane of this.lanes) lane.giveUp();
    const undelivered: UndeliveredEntry[] = [];
    const toSpill = new Set<HeldRecord>();
    for (const lane of this.lanes) {
      const byFile = new Map<string, { path: string; records: number; bytes: number }>();
      for (const held of lane.unsettled()) {
        toSpill.add(held);
        const { fileKey, path, bytes } = held.record;
        const entry = byFile.get(fileKey);
        if (entry) {
          entry.records++;
          entry.bytes += bytes;
          entry.path = path;
        } else byFile.set(fileKey, { path, records: 1, bytes });
      }
      // Reported once, per sink and file, by the caller (it also knows the bytes not read yet).
      for (const [fileKey, entry] of byFile) undelivered.push({ sink: lane.name, fileKey, ...entry });
    }
    if (this.spillsAtDeadline) {
      // The records held go first; what the file server reads from here on follows them (see accept).
      this.spill = new DeadlineSpill(this.options.stdout!);
      for (const held of toSpill) this.spill.add(held.record);
      this.wakeWriters();
    }
    return { complete: undelivered.length === 0, undelivered };
  }
}
