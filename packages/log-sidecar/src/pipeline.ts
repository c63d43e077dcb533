import { close, read, type Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '@agent-sidecars/shared';
import { AckTracker } from './checkpoint/ack-tracker.js';
import type { CheckpointStore } from './checkpoint/checkpoint-store.js';
import type { Delivery, DrainReport } from './delivery/delivery.js';
import type { LogRecord } from './record.js';
import type { RecordBuilder } from './record-builder.js';
import { FINGERPRINT_MAX_BYTES, fileIdentity, fingerprintLength } from './source/file-identity.js';
import { FileTailer, fstatFile, openFile, type ReadOutcome, type TailerHost } from './source/file-tailer.js';
import type { MultilineMode } from './source/multiline.js';
import type { FileLag, SourceMetrics } from './source-metrics.js';

export interface PipelineOptions {
  readonly delivery: Delivery;
  readonly store: CheckpointStore;
  readonly builder: RecordBuilder;
  readonly metrics: SourceMetrics;
  readonly logger: Logger;
  readonly maxLineBytes: number;
  readonly multiline: MultilineMode;
  readonly multilineTimeoutMs: number;
  /** Size of the one read buffer shared by every file (reads are serialised). */
  readonly readBufferBytes: number;
  /** A renamed or deleted file is let go once read to its end and quiet for this long. */
  readonly rotateWaitMs: number;
  /** Checkpoint entries of files not seen for this long are removed. */
  readonly checkpointGraceMs: number;
  readonly now?: () => number;
}

/** Per file, what was not delivered when the shutdown deadline came. */
export interface FileShortfall {
  readonly path: string;
  readonly sink: string;
  readonly records: number;
  readonly bytes: number;
}

function inodeKey(dev: number, ino: number): string {
  return `${dev}:${ino}`;
}

/**
 * Source to delivery: opens what discovery finds, reads every file with one shared buffer, one chunk at a
 * time in turn, and hands records to the delivery. When the delivery's buffer is full, reading stops
 * until it has room: the file is the buffer. Acks move the checkpoint store forward.
 */
export class Pipeline implements TailerHost {
  readonly builder: RecordBuilder;
  readonly sinkNames: readonly string[];
  readonly maxLineBytes: number;
  readonly multiline: MultilineMode;
  readonly multilineTimeoutMs: number;
  readonly now: () => number;
  readonly tracker: AckTracker;

  readonly #options: PipelineOptions;
  readonly #delivery: Delivery;
  readonly #store: CheckpointStore;
  readonly #log: Logger;
  readonly #metrics: SourceMetrics;
  readonly #buffer: Buffer;
  /** Open files by device and inode. */
  readonly #tailers = new Map<string, FileTailer>();
  /** Files with something to do, in the order they get a turn. */
  readonly #dirty = new Set<FileTailer>();
  readonly #needsCheck = new Set<FileTailer>();
  /** Open failures already logged, by path. */
  readonly #openProblems = new Map<string, string>();
  #loop: Promise<void> | undefined;
  #paused = false;
  #stopReading = false;
  #wakeStop: (() => void) | undefined;
  #final = false;
  #recovered = false;
  #scanned = false;

  constructor(options: PipelineOptions) {
    this.#options = options;
    this.#delivery = options.delivery;
    this.#store = options.store;
    this.#log = options.logger;
    this.#metrics = options.metrics;
    this.builder = options.builder;
    this.sinkNames = options.delivery.sinkNames;
    this.maxLineBytes = options.maxLineBytes;
    this.multiline = options.multiline;
    this.multilineTimeoutMs = options.multilineTimeoutMs;
    this.now = options.now ?? Date.now;
    this.#buffer = Buffer.allocUnsafe(options.readBufferBytes);
    this.tracker = new AckTracker(
      options.store,
      this.sinkNames,
      (sink, records) => this.#metrics.recordsDelivered.inc({ sink }, records),
      this.now,
    );
    this.#delivery.onAck(this.tracker.onAck);
  }

  // --- TailerHost -------------------------------------------------------------------------------------

  accept(record: LogRecord, sinks: readonly string[] | undefined): void {
    this.tracker.accepted(record.fileKey, record.endOffset);
    if (!this.#delivery.accept(record, sinks)) this.#paused = true;
  }

  identified(tailer: FileTailer): ReadonlyMap<string, number> {
    const identity = tailer.identity!;
    this.tracker.track({ key: identity.key, path: tailer.path, dev: tailer.dev, ino: tailer.ino });
    this.#store.touch(identity.key, tailer.path, this.now());
    const offsets = new Map<string, number>();
    for (const sink of this.sinkNames) offsets.set(sink, this.#store.offset(identity.key, sink));
    const resume = Math.min(...offsets.values());
    if (resume > 0)
      this.#log.info({ path: tailer.path, offset: resume }, 'Resuming file from its checkpoint.');
    return offsets;
  }

  counted(bytes: number, records: number, truncated: number): void {
    if (bytes > 0) this.#metrics.bytesRead.inc(bytes);
    if (records > 0) this.#metrics.recordsRead.inc(records);
    if (truncated > 0) this.#metrics.recordsTruncated.inc(truncated);
  }

  // --- discovery --------------------------------------------------------------------------------------

  /** Reconciles open files with what discovery found: new files, renames, rotations, deletions. */
  readonly reconcile = async (found: ReadonlyMap<string, Stats>): Promise<void> => {
    const now = this.now();
    this.#metrics.scans.inc();
    const byInode = new Map<string, string>();
    for (const [path, stats] of found) byInode.set(inodeKey(stats.dev, stats.ino), path);

    for (const [key, tailer] of this.#tailers) {
      const path = byInode.get(key);
      if (path !== undefined) {
        if (path !== tailer.path) {
          this.#log.info(
            { from: tailer.path, to: path },
            'File renamed; still reading it under its new name.',
          );
          tailer.path = path;
          if (tailer.identity !== undefined) this.tracker.rename(tailer.identity.key, path);
        }
        tailer.rotated = false;
      } else if (!tailer.rotated) {
        tailer.rotated = true;
        tailer.rotatedAt = now;
        this.#metrics.rotations.inc();
        this.#log.info({ path: tailer.path }, 'File renamed away or deleted; reading it to its end.');
      }
    }
    for (const [path, stats] of found) {
      if (!this.#tailers.has(inodeKey(stats.dev, stats.ino))) await this.#open(path, false);
    }
    for (const path of this.#openProblems.keys()) if (!found.has(path)) this.#openProblems.delete(path);
    if (!this.#recovered) {
      this.#recovered = true;
      await this.#recoverRotated();
    }
    for (const tailer of this.#tailers.values()) {
      if (tailer.identity !== undefined) this.#store.touch(tailer.identity.key, tailer.path, now);
      this.#needsCheck.add(tailer);
      this.#dirty.add(tailer);
    }
    this.#scanned = true;
    this.#kick();
  };

  /** A read tick: every open file gets a turn (a read at its end costs one pread that returns 0). */
  readonly tick = (): void => {
    for (const tailer of this.#tailers.values()) this.#dirty.add(tailer);
    this.#kick();
  };

  async #open(path: string, recovering: boolean): Promise<FileTailer | undefined> {
    let fd: number;
    try {
      fd = await openFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
      if (code === 'ENOENT') return undefined;
      if (this.#openProblems.get(path) !== code) {
        this.#openProblems.set(path, code);
        this.#metrics.errors.inc({ kind: code === 'EACCES' || code === 'EPERM' ? 'permission' : 'open' });
        this.#log.warn({ path, code }, 'Cannot open file; retrying at every scan and shipping the others.');
      }
      return undefined;
    }
    if (this.#openProblems.delete(path)) this.#log.info({ path }, 'File can be read now.');
    try {
      const stats = await fstatFile(fd);
      const key = inodeKey(stats.dev, stats.ino);
      if (this.#tailers.has(key) || !stats.isFile()) {
        await new FileTailer(this, fd, path, stats).close();
        return undefined;
      }
      const tailer = new FileTailer(this, fd, path, stats);
      this.#tailers.set(key, tailer);
      if (!recovering) this.#log.info({ path, size: stats.size }, 'Reading file.');
      return tailer;
    } catch (error) {
      this.#metrics.errors.inc({ kind: 'stat' });
      this.#log.warn({ path, err: error }, 'Cannot stat an open file; retrying.');
      return undefined;
    }
  }

  /**
   * After a restart, a file renamed away while we were down (rename + create rotation) is no longer
   * matched by the globs; look for its inode next to its old path and read it from its checkpoint to its end.
   */
  async #recoverRotated(): Promise<void> {
    const wanted = new Map<string, { key: string; path: string }>();
    for (const [key, entry] of this.#store.entries()) {
      if (!this.#tailers.has(inodeKey(entry.dev, entry.ino))) {
        wanted.set(inodeKey(entry.dev, entry.ino), { key, path: entry.path });
      }
    }
    if (wanted.size === 0) return;
    const dirs = new Set([...wanted.values()].map((entry) => dirname(entry.path)));
    for (const dir of dirs) {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        const path = join(dir, name);
        let stats: Stats;
        try {
          stats = await stat(path);
        } catch {
          continue;
        }
        const want = wanted.get(inodeKey(stats.dev, stats.ino));
        if (want === undefined || !stats.isFile()) continue;
        if (!(await this.#sameIdentity(path, stats, want.key))) continue;
        const offset = Math.min(...this.sinkNames.map((sink) => this.#store.offset(want.key, sink)));
        if (offset >= stats.size) continue;
        const tailer = await this.#open(path, true);
        if (tailer === undefined) continue;
        tailer.rotated = true;
        tailer.rotatedAt = this.now();
        this.#log.info(
          { path, was: want.path, offset },
          'Found a rotated file left unfinished; reading it to its end.',
        );
      }
    }
  }

  async #sameIdentity(path: string, stats: Stats, key: string): Promise<boolean> {
    let fd: number | undefined;
    try {
      fd = await openFile(path);
      const head = Buffer.allocUnsafe(FINGERPRINT_MAX_BYTES);
      const bytes = await new Promise<number>((resolve, reject) =>
        read(fd!, head, 0, FINGERPRINT_MAX_BYTES, 0, (error, n) => (error ? reject(error) : resolve(n))),
      );
      const length = fingerprintLength(head, bytes, false);
      return length !== undefined && fileIdentity(stats.dev, stats.ino, head, length).key === key;
    } catch {
      return false;
    } finally {
      if (fd !== undefined) close(fd, () => {});
    }
  }

  // --- reading ----------------------------------------------------------------------------------------

  #kick(): void {
    if (this.#loop !== undefined || this.#stopReading) return;
    this.#loop = this.#run().finally(() => {
      this.#loop = undefined;
      if (this.#dirty.size > 0 && !this.#stopReading) this.#kick();
    });
  }

  async #run(): Promise<void> {
    while (this.#dirty.size > 0 && !this.#stopReading) {
      if (this.#paused) {
        await Promise.race([
          this.#delivery.whenWritable(),
          new Promise<void>((resolve) => {
            this.#wakeStop = resolve;
          }),
        ]);
        this.#wakeStop = undefined;
        this.#paused = false;
        continue;
      }
      const tailer = this.#dirty.values().next().value as FileTailer;
      this.#dirty.delete(tailer);
      if (tailer.closed) continue;
      let outcome: ReadOutcome;
      try {
        if (this.#needsCheck.delete(tailer) && (await tailer.checkTruncation())) {
          this.#metrics.fileTruncations.inc();
          this.#log.warn(
            { path: tailer.path },
            'File truncated or rewritten; reading it again from the start.',
          );
        }
        outcome = await tailer.readChunk(this.#buffer, this.#final);
      } catch (error) {
        this.#metrics.errors.inc({ kind: 'read' });
        this.#log.warn({ path: tailer.path, err: error }, 'Cannot read file; retrying at the next scan.');
        continue;
      }
      if (outcome === 'more') this.#dirty.add(tailer);
      else if (tailer.rotated && !this.#final) await this.#maybeRelease(tailer);
    }
  }

  /** Lets go of a rotated file once it is read to its end and has been quiet for a while. */
  async #maybeRelease(tailer: FileTailer): Promise<void> {
    const quietSince = Math.max(tailer.rotatedAt, tailer.lastDataAt);
    if (this.now() - quietSince < this.#options.rotateWaitMs) return;
    if (tailer.identity === undefined && !(await tailer.identifyFinal())) {
      // Nothing complete was ever in it.
    } else if (tailer.identity !== undefined) {
      // Read any last bytes before the held partial line is flushed as final.
      while ((await tailer.readChunk(this.#buffer, true)) === 'more') {}
      tailer.flushHeld();
    }
    this.#tailers.delete(inodeKey(tailer.dev, tailer.ino));
    await tailer.close();
    this.#log.info({ path: tailer.path }, 'Rotated file read to its end; closed it.');
  }

  // --- checkpoints ------------------------------------------------------------------------------------

  /** Persists the checkpoint if it changed; collects entries of long-gone files. Never throws. */
  writeCheckpoint(): boolean {
    const now = this.now();
    if (this.#scanned) {
      const live = new Set<string>();
      for (const tailer of this.#tailers.values()) if (tailer.identity) live.add(tailer.identity.key);
      for (const key of [...this.tracker.keys()]) {
        if (!live.has(key) && this.tracker.unsettledRecords(key) === 0) this.tracker.forget(key);
        else live.add(key);
      }
      const removed = this.#store.collectGarbage(now, this.#options.checkpointGraceMs, live);
      if (removed.length > 0)
        this.#log.info({ paths: removed }, 'Forgot checkpoints of files gone for good.');
    }
    if (!this.#store.dirty) return true;
    try {
      this.#store.write();
      this.#metrics.checkpointWrites.inc();
      return true;
    } catch (error) {
      this.#metrics.checkpointWriteFailures.inc();
      this.#metrics.errors.inc({ kind: 'checkpoint' });
      this.#log.warn({ path: this.#store.path, err: error }, 'Cannot write the checkpoint; retrying.');
      return false;
    }
  }

  // --- shutdown ---------------------------------------------------------------------------------------

  /**
   * Shutdown: reads every open file to its end, then emits each partial last line and pending multiline
   * group (the writer is gone, so they are final). Stops early when `signal` aborts.
   */
  async readToEnd(signal: AbortSignal): Promise<void> {
    this.#final = true;
    const onAbort = () => {
      this.#stopReading = true;
      this.#wakeStop?.();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (const tailer of this.#tailers.values()) {
        this.#needsCheck.add(tailer);
        this.#dirty.add(tailer);
      }
      this.#kick();
      while (this.#loop !== undefined && !signal.aborted) await this.#loop;
      if (signal.aborted) return;
      for (const tailer of this.#tailers.values()) tailer.flushHeld();
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Stops reading for good and closes every file. */
  async close(): Promise<void> {
    this.#stopReading = true;
    this.#wakeStop?.();
    await this.#loop;
    await Promise.all([...this.#tailers.values()].map((tailer) => tailer.close()));
  }

  /** What each file still owes each sink: bytes from its settled offset to its end, records accepted. */
  shortfall(report: DrainReport | undefined): FileShortfall[] {
    const result: FileShortfall[] = [];
    const seen = new Set<string>();
    for (const owed of this.tracker.outstanding()) {
      const tailer = this.#tailerByKey(owed.key);
      const size = Math.max(tailer?.size ?? 0, tailer?.position ?? 0);
      seen.add(`${owed.key}\0${owed.sink}`);
      result.push({
        path: owed.path,
        sink: owed.sink,
        records: owed.records,
        bytes: Math.max(0, size - owed.settledOffset),
      });
    }
    // Files not even read to their end owe bytes but no accepted records yet.
    for (const tailer of this.#tailers.values()) {
      const key = tailer.identity?.key;
      for (const sink of this.sinkNames) {
        if (key !== undefined && seen.has(`${key}\0${sink}`)) continue;
        const settled = key === undefined ? 0 : this.#store.offset(key, sink);
        const size = Math.max(tailer.size, tailer.position);
        if (size > settled) result.push({ path: tailer.path, sink, records: 0, bytes: size - settled });
      }
    }
    for (const entry of report?.undelivered ?? []) {
      if (!result.some((r) => r.sink === entry.sink && r.path === entry.path)) {
        result.push({ path: entry.path, sink: entry.sink, records: entry.records, bytes: entry.bytes });
      }
    }
    return result;
  }

  /** Open files and their lag, for the metrics. */
  *files(): Iterable<FileLag> {
    for (const tailer of this.#tailers.values()) {
      const settled = tailer.identity === undefined ? 0 : this.tracker.settledOffset(tailer.identity.key);
      yield { path: tailer.path, lagBytes: Math.max(0, Math.max(tailer.size, tailer.position) - settled) };
    }
  }

  #tailerByKey(key: string): FileTailer | undefined {
    for (const tailer of this.#tailers.values()) if (tailer.identity?.key === key) return tailer;
    return undefined;
  }
}
