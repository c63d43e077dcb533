import type { LogRecord } from '../record.js';

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
   * Shutdown: stop waiting for batch timeouts, send everything now, retry at once without backoff sleeps
   * past `deadline` (ms since the epoch). Resolves by the deadline with what was left undelivered;
   * with `--on-deadline stdout` those records have been written to stdout by then.
   */
  drain(deadline: number): Promise<DrainReport>;
  /** Releases sinks' connections. */
  close(): Promise<void>;
}
