import type { Acknowledgement, DrainReport } from '../delivery/delivery.js';
import type { SourceEvents } from '../events.js';
import { AckTracker, type TrackedFile } from './ack-tracker.js';
import type { CheckpointEntry, CheckpointStore } from './checkpoint-store.js';

export interface CheckpointerOptions {
  readonly store: CheckpointStore;
  readonly sinkNames: readonly string[];
  readonly events: SourceEvents;
  /** Checkpoint entries of files not seen for this long are removed. */
  readonly graceMs: number;
  readonly now: () => number;
}

/** Per file, what was not delivered when the shutdown deadline came. */
export interface FileShortfall {
  readonly path: string;
  readonly sink: string;
  readonly records: number;
  readonly bytes: number;
  /**
   * The bytes owed: [from, to), from the settled offset to the file's end as last seen. Unknown for a
   * file no longer open (its records are still held).
   */
  readonly from?: number;
  readonly to?: number;
}

/** An open file as the shortfall report sees it: its identity once known, and how far it reaches. */
export interface OpenFileExtent {
  readonly key: string | undefined;
  readonly path: string;
  /** The larger of its size at the last stat and the offset read up to. */
  readonly size: number;
}

/**
 * The only owner of the checkpoint store and the ack tracker: where each file resumes, what the sinks
 * acknowledged, which entries are gone for good, when the store is written, and what is still owed at the
 * deadline. The file server tells it what it opens and reads; the delivery tells it what was settled.
 */
export class Checkpointer {
  readonly #store: CheckpointStore;
  readonly #tracker: AckTracker;
  readonly #sinkNames: readonly string[];
  readonly #events: SourceEvents;
  readonly #graceMs: number;
  readonly #now: () => number;

  constructor(options: CheckpointerOptions) {
    this.#store = options.store;
    this.#sinkNames = options.sinkNames;
    this.#events = options.events;
    this.#graceMs = options.graceMs;
    this.#now = options.now;
    this.#tracker = new AckTracker(
      options.store,
      options.sinkNames,
      (sink, records) => this.#events.delivered(sink, records),
      options.now,
    );
  }

  /** The delivery's ack listener: moves the store forward. */
  get onAck(): (ack: Acknowledgement) => void {
    return this.#tracker.onAck;
  }

  /** A record ending at `endOffset` was handed to the delivery; call in offset order per file. */
  accepted(key: string, endOffset: number): void {
    this.#tracker.accepted(key, endOffset);
  }

  /** A file was identified: tracks it and returns each sink's checkpointed offset, where it resumes. */
  identified(file: TrackedFile): ReadonlyMap<string, number> {
    this.#tracker.track(file);
    this.#store.touch(file.key, file.path, this.#now());
    const offsets = new Map<string, number>();
    for (const sink of this.#sinkNames) offsets.set(sink, this.#store.offset(file.key, sink));
    const resume = Math.min(...offsets.values());
    if (resume > 0) this.#events.resuming(file.path, resume);
    return offsets;
  }

  /** Where a restart would resume `key`: the lowest offset any sink has checkpointed. */
  resumeOffset(key: string): number {
    return Math.min(...this.#sinkNames.map((sink) => this.#store.offset(key, sink)));
  }

  /** Every file the checkpoint knows, by key (a restart looks for the rotated ones among them). */
  known(): IterableIterator<[string, Readonly<CheckpointEntry>]> {
    return this.#store.entries();
  }

  /** The file is still there under `path`: its entry is kept. */
  seen(key: string, path: string): void {
    this.#store.touch(key, path, this.#now());
  }

  /** The file was renamed and is still read under its new name. */
  renamed(key: string, path: string): void {
    this.#tracker.rename(key, path);
  }

  /** The lowest offset every sink has settled for `key` (0 when not tracked). */
  settledOffset(key: string): number {
    return this.#tracker.settledOffset(key);
  }

  /**
   * Persists the checkpoint if it changed. With `live` (the keys of the open files; undefined until the
   * first scan has said which files exist), first forgets closed files that are fully settled and removes
   * entries not seen for the grace period. Never throws: false when the write failed (counted, logged).
   */
  write(live: Iterable<string> | undefined): boolean {
    if (live !== undefined) {
      const keep = new Set(live);
      for (const key of [...this.#tracker.keys()]) {
        if (!keep.has(key) && this.#tracker.unsettledRecords(key) === 0) this.#tracker.forget(key);
        else keep.add(key);
      }
      const removed = this.#store.collectGarbage(this.#now(), this.#graceMs, keep);
      if (removed.length > 0) this.#events.checkpointsForgotten(removed);
    }
    if (!this.#store.dirty) return true;
    try {
      this.#store.write();
      this.#events.checkpointWritten();
      return true;
    } catch (error) {
      this.#events.checkpointWriteFailed(this.#store.path, error);
      return false;
    }
  }

  /**
   * What each file still owes each sink at the deadline: bytes from its settled offset to its end, and the
   * records accepted and not settled. `open` are the files still open, read to their end or not; `report`
   * adds what the delivery knows of records of files already let go.
   */
  shortfall(open: readonly OpenFileExtent[], report: DrainReport | undefined): FileShortfall[] {
    const result: FileShortfall[] = [];
    const seen = new Set<string>();
    for (const owed of this.#tracker.outstanding()) {
      const size = open.find((file) => file.key === owed.key)?.size ?? 0;
      seen.add(`${owed.key}\0${owed.sink}`);
      result.push({
        path: owed.path,
        sink: owed.sink,
        records: owed.records,
        bytes: Math.max(0, size - owed.settledOffset),
        from: owed.settledOffset,
        to: Math.max(size, owed.settledOffset),
      });
    }
    // Files not even read to their end owe bytes but no accepted records yet.
    for (const file of open) {
      for (const sink of this.#sinkNames) {
        if (file.key !== undefined && seen.has(`${file.key}\0${sink}`)) continue;
        const settled = file.key === undefined ? 0 : this.#store.offset(file.key, sink);
        if (file.size > settled)
          result.push({
            path: file.path,
            sink,
            records: 0,
            bytes: file.size - settled,
            from: settled,
            to: file.size,
          });
      }
    }
    for (const entry of report?.undelivered ?? []) {
      if (!result.some((r) => r.sink === entry.sink && r.path === entry.path)) {
        result.push({ path: entry.path, sink: entry.sink, records: entry.records, bytes: entry.bytes });
      }
    }
    return result;
  }
}
