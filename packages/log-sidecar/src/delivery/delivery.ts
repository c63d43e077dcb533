import type { LogRecord } from '../record.js';
import type { SpillOutcome } from './deadline-spill.js';

/** Everything up to `endOffset` of file `fileKey` is settled (delivered or rejected) for sink `sink`. */
export interface Acknowledgement {
  readonly sink: string;
  readonly fileKey: string;
  readonly endOffset: number;
}

/** What a drain left behind, per sink and file, for the deadline report. */
export interface UndeliveredEntry {
  readonly sink: string;
  readonly fileKey: string;
  readonly path: string;
  readonly records: number;
  readonly bytes: number;
}

export interface DrainReport {
  /** True when every accepted record was settled for every sink before the deadline. */
  readonly complete: boolean;
  readonly undelivered: readonly UndeliveredEntry[];
}

/**
 * The sink side of the pipeline: batching, retry, in-flight limits and in-order acknowledgements for every
 * configured sink, written once. The source side only accepts records and listens for acks.
 */
export interface Delivery {
  /**
   * Takes a record for the given sinks (all sinks when omitted: a sink whose checkpoint is already past the
   * record is left out by the caller). Returns false when the bounded buffer is full: the caller must
   * stop reading until `whenWritable()` resolves. The record is held either way; never dropped.
   */
  accept(record: LogRecord, sinks?: readonly string[]): boolean;
  /**
   * The source says whether more is already waiting to be read (a cold file, a catch-up after an outage,
   * a burst larger than one read). While it is, batches fill to `--batch-max-records` /
   * `--batch-max-bytes`, so a backlog goes out in few large requests; once it has caught up, a batch is
   * sealed at the live size again, and one already that large is sealed now.
   */
  sourceBehind(behind: boolean): void;
  /** Resolves once the buffer has room again (immediately if it has now). */
  whenWritable(): Promise<void>;
  /** Acks arrive per sink and file in offset order, each covering every earlier record of that file. */
  onAck(listener: (ack: Acknowledgement) => void): void;
  /** Names of the configured sinks, in configuration order. */
  readonly sinkNames: readonly string[];
  /**
   * Estimated memory of the records held (accepted and not yet settled by every sink): their bytes plus a
   * fixed per-record overhead.
   */
  readonly bufferedBytes: number;
  /**
   * True while `bufferedBytes` is at `--buffer-max-bytes` or above: the memory bound, not just "the sinks
   * have enough read ahead" (both make `accept` return false).
   */
  readonly bufferFull: boolean;
  /**
   * The first thing at SIGTERM: every backoff sleep ends now, every sink switches to its drain policy
   * (short capped retries) and no batch waits for its timeout. Reading to the files' ends goes on
   * meanwhile, with the usual backpressure: records read now are sent at once.
   */
  startDrain(): void;
  /**
   * Shutdown: starts the drain if not yet started and delivers until every record is settled or
   * `deadline` (ms since the epoch) comes; then gives up and resolves with what was left undelivered.
   * With `--on-deadline stdout` the delivery then spills: the records held are written to stdout, and so
   * is every record accepted from then on (the files' unread rest); see `finishSpill`.
   */
  drain(deadline: number): Promise<DrainReport>;
  /** Whether a drain that gives up spills to stdout (`--on-deadline stdout`). */
  readonly spillsAtDeadline: boolean;
  /**
   * After a drain that gave up: waits, not past `deadline`, until stdout took every record spilled, and
   * says per file how far it got. Undefined when nothing was spilled (complete drain, or drop).
   */
  finishSpill(deadline: number): Promise<SpillOutcome | undefined>;
  /** Releases sinks' connections. */
  close(): Promise<void>;
}
