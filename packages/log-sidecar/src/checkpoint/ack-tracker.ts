import type { Acknowledgement } from '../delivery/delivery.js';
import type { CheckpointStore } from './checkpoint-store.js';

/** Where a file identity is, for checkpoint entries. */
export interface TrackedFile {
  readonly key: string;
  /** The identity's base (`dev-ino-fingerprint`), kept in the checkpoint entry. */
  readonly base: string;
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
}

/** Per file: records accepted and not yet settled by every sink. */
export interface Outstanding {
  readonly key: string;
  readonly path: string;
  readonly sink: string;
  /** Records accepted and not settled for this sink. */
  readonly records: number;
  /** Offset up to which this sink has settled the file. */
  readonly settledOffset: number;
}

/**
 * The end offsets of accepted records, in order, for one file: a flat number queue, one slot per record,
 * with a read position per sink. Acks arrive in order per sink and file, so an ack just moves that sink's
 * position forward; the prefix every sink has passed is dropped in bulk.
 */
class FileLedger {
  ends: number[] = [];
  head = 0;
  readonly positions = new Map<string, number>();
  readonly settled = new Map<string, number>();
  constructor(public file: TrackedFile) {}
}

/**
 * Applies the delivery's acknowledgements to the checkpoint store and keeps count of what is still owed,
 * per file and sink, for the records-delivered metric and the deadline report.
 */
export class AckTracker {
  readonly #store: CheckpointStore;
  readonly #sinks: readonly string[];
  readonly #files = new Map<string, FileLedger>();
  readonly #now: () => number;
  readonly #onDelivered: (sink: string, records: number) => void;

  constructor(
    store: CheckpointStore,
    sinks: readonly string[],
    onDelivered: (sink: string, records: number) => void,
    now: () => number = Date.now,
  ) {
    this.#store = store;
    this.#sinks = sinks;
    this.#onDelivered = onDelivered;
    this.#now = now;
  }

  /** Starts tracking a file identity; `settled` holds each sink's checkpointed offset. */
  track(file: TrackedFile): void {
    let ledger = this.#files.get(file.key);
    if (ledger === undefined) {
      ledger = new FileLedger(file);
      this.#files.set(file.key, ledger);
    }
    for (const sink of this.#sinks) {
      ledger.positions.set(sink, ledger.positions.get(sink) ?? ledger.head);
      ledger.settled.set(sink, Math.max(ledger.settled.get(sink) ?? 0, this.#store.offset(file.key, sink)));
    }
  }

  /** Notes that a record ending at `endOffset` was accepted; call in offset order per file. */
  accepted(key: string, endOffset: number): void {
    this.#files.get(key)?.ends.push(endOffset);
  }

  /** The delivery's ack listener. */
  readonly onAck = (ack: Acknowledgement): void => {
    const ledger = this.#files.get(ack.fileKey);
    if (ledger === undefined) return;
    const { file } = ledger;
    this.#store.advance(ack.fileKey, ack.sink, ack.endOffset, file, this.#now());
    if ((ledger.settled.get(ack.sink) ?? 0) < ack.endOffset) ledger.settled.set(ack.sink, ack.endOffset);
    const ends = ledger.ends;
    let position = ledger.positions.get(ack.sink) ?? ledger.head;
    const from = position;
    while (position < ends.length && ends[position]! <= ack.endOffset) position++;
    ledger.positions.set(ack.sink, position);
    if (position > from) this.#onDelivered(ack.sink, position - from);
    this.#compact(ledger);
  };

  /** The lowest offset settled by every sink (where a restart would resume). */
  settledOffset(key: string): number {
    const ledger = this.#files.get(key);
    if (ledger === undefined) return 0;
    let lowest = Number.POSITIVE_INFINITY;
    for (const sink of this.#sinks) lowest = Math.min(lowest, ledger.settled.get(sink) ?? 0);
    return Number.isFinite(lowest) ? lowest : 0;
  }

  /** Records accepted for the file and not yet settled by at least one sink. */
  unsettledRecords(key: string): number {
    const ledger = this.#files.get(key);
    if (ledger === undefined) return 0;
    let most = 0;
    for (const sink of this.#sinks) most = Math.max(most, this.#owed(ledger, sink));
    return most;
  }

  /** Per file and sink, what is still owed (entries with nothing owed are left out). */
  outstanding(): Outstanding[] {
    const result: Outstanding[] = [];
    for (const ledger of this.#files.values()) {
      for (const sink of this.#sinks) {
        const records = this.#owed(ledger, sink);
        if (records > 0) {
          result.push({
            key: ledger.file.key,
            path: ledger.file.path,
            sink,
            records,
            settledOffset: ledger.settled.get(sink) ?? 0,
          });
        }
      }
    }
    return result;
  }

  /** Updates the path a file is known by (renamed but still tracked). */
  rename(key: string, path: string): void {
    const ledger = this.#files.get(key);
    if (ledger !== undefined) ledger.file = { ...ledger.file, path };
  }

  has(key: string): boolean {
    return this.#files.has(key);
  }

  keys(): IterableIterator<string> {
    return this.#files.keys();
  }

  /** Stops tracking a file that is closed and fully settled. */
  forget(key: string): void {
    this.#files.delete(key);
  }

  #owed(ledger: FileLedger, sink: string): number {
    // Records below a sink's checkpoint (accepted for the other sinks only, after a restart) are not owed.
    const settled = ledger.settled.get(sink) ?? 0;
    let position = ledger.positions.get(sink) ?? ledger.head;
    while (position < ledger.ends.length && ledger.ends[position]! <= settled) position++;
    return ledger.ends.length - position;
  }

  #compact(ledger: FileLedger): void {
    let lowest = Number.POSITIVE_INFINITY;
    for (const sink of this.#sinks) {
      const position = ledger.ends.length - this.#owed(ledger, sink);
      ledger.positions.set(sink, position);
      lowest = Math.min(lowest, position);
    }
    if (lowest < 4096 || lowest * 2 < ledger.ends.length) return;
    ledger.ends = ledger.ends.slice(lowest);
    for (const [sink, position] of ledger.positions) ledger.positions.set(sink, position - lowest);
    ledger.head = 0;
  }
}
