import type { Acknowledgement, DrainReport } from '../delivery/delivery.js';
import type { SourceEvents } from '../events.js';
import type { ContentMarker } from '../source/file-identity.js';
import type { ResumeCandidate } from '../source/file-tailer.js';
import { inodeKey } from '../source/inode-search.js';
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
  /** Why: not read to its end, not acknowledged by the sink, or why it could not be opened. */
  readonly reason: string;
}

/**
 * A matching file as the shortfall report sees it, open or not: its identity once known, how far it
 * reaches and how far it was read, and why it is not open if it is not.
 */
export interface OpenFileExtent {
  readonly key: string | undefined;
  readonly path: string;
  /** The larger of its size at the last stat and the offset read up to. */
  readonly size: number;
  /** Offset read up to. */
  readonly read: number;
  /** Why it is not open (undefined: it is). */
  readonly problem: string | undefined;
}

const NOT_ACKNOWLEDGED = 'not acknowledged by the sink';
const NOT_READ = 'not read to its end';

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
    this.#store.ensure(file.key, file, this.#now());
    this.#store.touch(file.key, file.path, this.#now());
    const offsets = new Map<string, number>();
    for (const sink of this.#sinkNames) offsets.set(sink, this.#store.offset(file.key, sink));
    const resume = Math.min(...offsets.values());
    if (resume > 0) this.#events.resuming(file.path, resume);
    return offsets;
  }

  /** Checkpointed content with identity base `base`, newest seen first: where a file may resume. */
  candidates(base: string): ResumeCandidate[] {
    return this.#store.withBase(base).map(([key, entry]) => ({
      key,
      offsets: this.#sinkNames.map((sink) => entry.offsets[sink] ?? 0),
      marker: entry.marker,
    }));
  }

  /**
   * A key for new content of `base`: the base itself if nothing uses it, else the base plus a generation,
   * so records of a rewritten file never share ids (Elasticsearch `_id`) or checkpoints with the old ones.
   */
  freshKey(base: string): string {
    const used = (key: string) => this.#store.get(key) !== undefined || this.#tracker.has(key);
    if (!used(base)) return base;
    let generation = this.#now();
    while (used(`${base}~${generation.toString(36)}`)) generation++;
    return `${base}~${generation.toString(36)}`;
  }

  /** The content checkpointed under `key` is gone (rewritten): never resume from that entry again. */
  rewritten(key: string): void {
    this.#store.mark(key, undefined);
  }

  /**
   * Takes the content marker of `key` at its resume offset, if that offset moved since the last one;
   * `read` reads it from the open file (undefined: it cannot, and the older marker is kept).
   */
  mark(key: string, read: (offset: number) => ContentMarker | undefined): void {
    const entry = this.#store.get(key);
    if (entry === undefined) return;
    const offset = this.resumeOffset(key);
    if (entry.marker?.offset === offset) return;
    const marker = read(offset);
    if (marker !== undefined) this.#store.mark(key, marker);
  }

  /** By `dev:ino`, the highest resume offset of any checkpoint of that inode. */
  resumeOffsetsByInode(): Map<string, number> {
    const offsets = new Map<string, number>();
    for (const [key, entry] of this.#store.entries()) {
      const inode = `${entry.dev}:${entry.ino}`;
      offsets.set(inode, Math.max(offsets.get(inode) ?? 0, this.resumeOffset(key)));
    }
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

  /** The file is still there under `path`, `size` bytes long: its entry is kept. */
  seen(key: string, path: string, size: number): void {
    this.#store.touch(key, path, this.#now(), size);
  }

  /**
   * The file with inode `dev:ino` is gone and its unread bytes were reported lost: a restart must not
   * report them a second time.
   */
  lossReported(inode: string): void {
    for (const [key, entry] of this.#store.entries()) {
      if (inodeKey(entry.dev, entry.ino) === inode) this.goneForGood(key);
    }
  }

  /**
   * Bytes of checkpointed content `key` that were never settled and are gone with their file: from its
   * resume offset to its size when last seen (0 when the size is unknown or all of it was settled).
   */
  unsettledBytes(key: string): number {
    const size = this.#store.get(key)?.size ?? 0;
    return Math.max(0, size - this.resumeOffset(key));
  }

  /** Checkpointed content `key` is gone for good and its unsettled bytes were reported lost. */
  goneForGood(key: string): void {
    this.#store.settleSize(key, this.resumeOffset(key));
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
    const reasonOf = (file: OpenFileExtent | undefined) =>
      file?.problem ?? (file !== undefined && file.read < file.size ? NOT_READ : NOT_ACKNOWLEDGED);
    for (const owed of this.#tracker.outstanding()) {
      const file = open.find((candidate) => candidate.key === owed.key);
      seen.add(`${owed.key}\0${owed.sink}`);
      result.push({
        path: owed.path,
        sink: owed.sink,
        records: owed.records,
        bytes: Math.max(0, (file?.size ?? 0) - owed.settledOffset),
        reason: reasonOf(file),
      });
    }
    // Files not even read to their end (or never opened) owe bytes but no accepted records yet.
    for (const file of open) {
      for (const sink of this.#sinkNames) {
        if (file.key !== undefined && seen.has(`${file.key}\0${sink}`)) continue;
        const settled = file.key === undefined ? 0 : this.#store.offset(file.key, sink);
        if (file.size > settled) {
          result.push({
            path: file.path,
            sink,
            records: 0,
            bytes: file.size - settled,
            reason: reasonOf(file),
          });
        }
      }
    }
    for (const entry of report?.undelivered ?? []) {
      if (!result.some((r) => r.sink === entry.sink && r.path === entry.path)) {
        result.push({
          path: entry.path,
          sink: entry.sink,
          records: entry.records,
          bytes: entry.bytes,
          reason: NOT_ACKNOWLEDGED,
        });
      }
    }
    return result;
  }
}
