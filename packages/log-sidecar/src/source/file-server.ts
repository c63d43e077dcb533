import type { Stats } from 'node:fs';
import type { Checkpointer, OpenFileExtent } from '../checkpoint/checkpointer.js';
import type { Delivery } from '../delivery/delivery.js';
import type { SourceEvents } from '../events.js';
import type { RecordBuilder } from '../record-builder.js';
import type { FileLag } from '../source-metrics.js';
import { closeFile, fstatFile, openFile } from './file-handle.js';
import { FileTailer, type ParkedAt, type ReadOutcome, type TailerOptions } from './file-tailer.js';
import { findByInode, inodeKey } from './inode-search.js';
import type { MultilineMode } from './multiline.js';
import { Rotation } from './rotation.js';

export interface FileServerOptions {
  readonly delivery: Delivery;
  readonly checkpointer: Checkpointer;
  readonly builder: RecordBuilder;
  readonly events: SourceEvents;
  readonly maxLineBytes: number;
  readonly multiline: MultilineMode;
  readonly multilineTimeoutMs: number;
  /** Size of the one read buffer shared by every file (reads are serialised). */
  readonly readBufferBytes: number;
  /** A renamed or deleted file is let go once read to its end and quiet for this long. */
  readonly rotateWaitMs: number;
  /** Files held open at a time; further ones wait their turn (`--max-open-files`). */
  readonly maxOpenFiles: number;
  readonly now: () => number;
}

/**
 * Descriptors left free when the process runs out of them (EMFILE) before `maxOpenFiles`: the health
 * server, the HTTP sinks' sockets and the checkpoint write need some.
 */
const DESCRIPTOR_HEADROOM = 16;

/** Files deleted before they were read to their end, kept by name for the deadline report. */
const GONE_UNREAD_KEPT = 1000;
const GONE_UNREAD = 'deleted before it was read to its end';

/**
 * A matching file that is not open: never opened yet (no slot was free, or it cannot be opened), or
 * closed to free its slot once read to its end (`parked`). Known by device and inode.
 */
interface ClosedFile {
  path: string;
  /**
   * For a file never opened here: how far a checkpoint of its inode says it was read (a backup read
   * before, handed over again by discovery), so it is not counted as lost if deleted before its turn.
   */
  checkpointed: number;
  /** Size and modification time at the last scan (NaN: not known yet). */
  size: number;
  mtimeMs: number;
  /** Changed since it was closed at its end without changing size: maybe rewritten, worth a look. */
  touched: boolean;
  /** Where reading goes on, for a file read before; undefined: from its checkpoint (or 0). */
  parked: ParkedAt | undefined;
  /** The last reason it could not be opened (an errno code), if any. */
  problem: string | undefined;
}

/** The bytes of `file` not read yet. */
function unreadBytes(file: ClosedFile): number {
  return Math.max(0, file.size - (file.parked?.position ?? file.checkpointed));
}

/** True when `file` has something to read: new bytes, or it changed since it was closed (a rewrite). */
function needsTurn(file: ClosedFile): boolean {
  return file.parked === undefined ? file.size > 0 : file.size !== file.parked.position || file.touched;
}

/**
 * The open files: opens what discovery finds, reads every file with one shared buffer, one chunk at a
 * time in turn, and hands records to the delivery. When the delivery's buffer is full, reading stops
 * until it has room: the file is the buffer. At shutdown, reads every file to its end.
 */
export class FileServer {
  readonly #delivery: Delivery;
  readonly #checkpointer: Checkpointer;
  readonly #events: SourceEvents;
  readonly #rotation: Rotation;
  readonly #tailerOptions: TailerOptions;
  readonly #buffer: Buffer;
  /** Open files by device and inode. */
  readonly #tailers = new Map<string, FileTailer>();
  /** Matching files not open, by device and inode, in the order they get a slot. */
  readonly #waiting = new Map<string, ClosedFile>();
  readonly #maxOpenFiles: number;
  /** Matching files deleted before they were read to their end: what the exit code must not hide. */
  readonly #goneUnread: { path: string; bytes: number }[] = [];
  readonly #goneUnreadDropped = { files: 0, bytes: 0 };
  /** Whether a waiting file wants a turn; undefined: not known since the waiting list changed. */
  #waiters: boolean | undefined;
  /** Lowered below `maxOpenFiles` when the process ran out of descriptors. */
  #descriptorCeiling = Number.POSITIVE_INFINITY;
  /** Files with something to do, in the order they get a turn. */
  readonly #dirty = new Set<FileTailer>();
  readonly #needsCheck = new Set<FileTailer>();
  #loop: Promise<void> | undefined;
  #paused = false;
  #behind = false;
  #stopReading = false;
  #wakeStop: (() => void) | undefined;
  #final = false;
  #recovered = false;
  #scanned = false;
  /** Reads that returned bytes (or found a rewrite): the read polls back off while this stands still. */
  #chunksRead = 0;

  constructor(options: FileServerOptions) {
    this.#delivery = options.delivery;
    this.#checkpointer = options.checkpointer;
    this.#events = options.events;
    this.#buffer = Buffer.allocUnsafe(options.readBufferBytes);
    this.#maxOpenFiles = options.maxOpenFiles;
    this.#rotation = new Rotation({
      checkpointer: options.checkpointer,
      events: options.events,
      rotateWaitMs: options.rotateWaitMs,
      now: options.now,
    });
    this.#tailerOptions = {
      builder: options.builder,
      sinkNames: options.delivery.sinkNames,
      maxLineBytes: options.maxLineBytes,
      multiline: options.multiline,
      multilineTimeoutMs: options.multilineTimeoutMs,
      now: options.now,
      accept: (record, sinks) => {
        this.#checkpointer.accepted(record.fileKey, record.endOffset);
        if (this.#delivery.accept(record, sinks)) return true;
        this.#paused = true;
        // At the memory bound the read stops here; paused only for read-ahead (the sinks have enough
        // batches waiting), the rest of the read is taken: stopping there too re-read it for nothing and
        // left the sinks short of records (raw, HTTP: ~0.8x the lines/s in one A/B).
        return !this.#delivery.bufferFull;
      },
      candidates: (base) => this.#checkpointer.candidates(base),
      freshKey: (base) => this.#checkpointer.freshKey(base),
      notResumable: (tailer, why) => this.#events.notResumable(tailer.path, why.offset, why.reason),
      identified: (tailer) =>
        this.#checkpointer.identified({
          key: tailer.identity!.key,
          base: tailer.identity!.base,
          path: tailer.path,
          dev: tailer.dev,
          ino: tailer.ino,
        }),
      counted: (bytes, records, truncated) => this.#events.chunkRead(bytes, records, truncated),
    };
  }

  /**
   * Reconciles open files with what discovery found: new files, renames, rotations, deletions. Files
   * beyond the open-file cap wait their turn. `complete` false: a directory could not be listed for want
   * of descriptors, so a file not found is not taken for renamed away or deleted.
   */
  readonly reconcile = async (found: ReadonlyMap<string, Stats>, complete = true): Promise<void> => {
    this.#events.scanned();
    const byInode = new Map<string, [string, Stats]>();
    for (const [path, stats] of found) byInode.set(inodeKey(stats.dev, stats.ino), [path, stats]);
    for (const [key, tailer] of this.#tailers) {
      const path = byInode.get(key)?.[0];
      if (path !== undefined || complete) this.#rotation.observe(tailer, path);
    }
    const missing = new Map<string, ClosedFile>();
    for (const [key, file] of this.#waiting) {
      const now = byInode.get(key);
      if (now === undefined) {
        if (complete) missing.set(key, file);
      } else {
        file.path = now[0];
        const changed =
          now[1].size !== file.size || (!Number.isNaN(file.mtimeMs) && now[1].mtimeMs !== file.mtimeMs);
        file.size = now[1].size;
        file.mtimeMs = now[1].mtimeMs;
        // Closed at its end and modified since at the same size: the tailer's checks decide if rewritten.
        if (changed && file.parked !== undefined) file.touched = true;
      }
    }
    // Not listed is not gone: a rotated sibling is handed over once, and may have moved to another backup
    // name since. Looked for by inode next to where it was; only a file found nowhere is gone.
    const elsewhere = await findByInode(missing);
    for (const [key, file] of missing) {
      const now = elsewhere.get(key)?.path;
      if (now !== undefined && unreadBytes(file) > 0) {
        file.path = now;
      } else {
        this.#waiting.delete(key);
        if (now !== undefined) continue; // read to its end already: nothing to wait for
        const bytes = unreadBytes(file);
        if (bytes > 0) {
          this.#events.goneUnread(file.path, bytes);
          this.#checkpointer.lossReported(key);
          if (this.#goneUnread.length < GONE_UNREAD_KEPT) this.#goneUnread.push({ path: file.path, bytes });
          else {
            this.#goneUnreadDropped.files++;
            this.#goneUnreadDropped.bytes += bytes;
          }
        }
      }
    }
    let checkpointed: ReadonlyMap<string, number> | undefined;
    for (const [key, [path, stats]] of byInode) {
      if (this.#tailers.has(key) || this.#waiting.has(key)) continue;
      checkpointed ??= this.#checkpointer.resumeOffsetsByInode();
      this.#waiting.set(key, {
        path,
        checkpointed: checkpointed.get(key) ?? 0,
        size: stats.size,
        mtimeMs: stats.mtimeMs,
        touched: false,
        parked: undefined,
        problem: undefined,
      });
    }
    this.#waiters = undefined;
    await this.#fillSlots(true);
    this.#events.openProblemsGone(found);
    if (!this.#recovered) {
      this.#recovered = true;
      await this.#rotation.recover(
        (dev, ino) => this.#tailers.has(inodeKey(dev, ino)),
        async (path) => {
          const opened = await this.#open(path, true);
          return opened instanceof FileTailer ? opened : undefined;
        },
      );
    }
    for (const tailer of this.#tailers.values()) {
      if (tailer.identity !== undefined)
        this.#checkpointer.seen(tailer.identity.key, tailer.path, tailer.size);
      this.#needsCheck.add(tailer);
      this.#dirty.add(tailer);
    }
    this.#scanned = true;
    this.#kick();
  };

  /**
   * A read poll: every open file gets a turn (a read at its end costs one pread that returns 0). The
   * pipeline's `PollTimer` calls it every `--read-interval`, less often while nothing is read.
   */
  readonly tick = (): void => {
    for (const tailer of this.#tailers.values()) this.#dirty.add(tailer);
    this.#kick();
  };

  /** Reads so far that returned bytes or found a file rewritten. */
  get chunksRead(): number {
    return this.#chunksRead;
  }

  /** Keys of the open files once a scan has said which files exist; undefined before. */
  liveKeys(): string[] | undefined {
    if (!this.#scanned) return undefined;
    const keys: string[] = [];
    for (const tailer of this.#tailers.values()) if (tailer.identity) keys.push(tailer.identity.key);
    for (const file of this.#waiting.values()) if (file.parked) keys.push(file.parked.key);
    return keys;
  }

  /**
   * Every matching file and how far it reaches, for the deadline report: the open ones, and the ones
   * waiting for a slot or that cannot be opened, with the reason.
   */
  openFiles(): OpenFileExtent[] {
    const files: OpenFileExtent[] = [...this.#tailers.values()].map((tailer) => ({
      key: tailer.identity?.key,
      path: tailer.path,
      size: Math.max(tailer.size, tailer.position),
      read: tailer.position,
      problem: undefined,
    }));
    for (const file of this.#waiting.values()) {
      if (unreadBytes(file) === 0) continue;
      files.push({
        key: file.parked?.key,
        path: file.path,
        size: file.size,
        read: file.parked?.position ?? 0,
        problem:
          file.problem === undefined ? 'waiting for an open-file slot' : `cannot open (${file.problem})`,
      });
    }
    const gone = (path: string, bytes: number) => ({
      key: undefined,
      path,
      size: bytes,
      read: 0,
      problem: GONE_UNREAD,
    });
    for (const file of this.#goneUnread) files.push(gone(file.path, file.bytes));
    const dropped = this.#goneUnreadDropped;
    if (dropped.files > 0) files.push(gone(`(${dropped.files} more files)`, dropped.bytes));
    return files;
  }

  /** Matching files with bytes not read yet that are not open (waiting for a slot, or unopenable). */
  unreadFiles(): number {
    let count = 0;
    for (const file of this.#waiting.values()) if (unreadBytes(file) > 0) count++;
    return count;
  }

  /** Open files and their lag, for the metrics. */
  *files(): Iterable<FileLag> {
    for (const tailer of this.#tailers.values()) {
      const settled =
        tailer.identity === undefined ? 0 : this.#checkpointer.settledOffset(tailer.identity.key);
      yield { path: tailer.path, lagBytes: Math.max(0, Math.max(tailer.size, tailer.position) - settled) };
    }
  }

  /** How many files may be open now. */
  get #slots(): number {
    return Math.min(this.#maxOpenFiles, this.#descriptorCeiling);
  }

  /**
   * Opens waiting files, in turn, while slots are free. `retryProblems`: also try again the files that
   * could not be opened before (at each scan, and once at shutdown; not at every turn of the read loop).
   */
  async #fillSlots(retryProblems: boolean): Promise<void> {
    for (const [key, file] of this.#waiting) {
      if (this.#tailers.size >= this.#slots) return;
      if (!needsTurn(file) || (file.problem !== undefined && !retryProblems)) continue;
      const outcome = await this.#open(file.path, false, { key, parked: file.parked });
      if (outcome === 'emfile') return;
      if (outcome instanceof FileTailer) {
        // #open took the file it opened off the waiting list (after a rename, maybe not this one).
        this.#needsCheck.add(outcome);
        this.#dirty.add(outcome);
      } else if (outcome === 'gone') {
        // Listed, then deleted or renamed before it could be opened: the next scan says which.
      } else {
        file.problem = outcome;
      }
      this.#waiters = undefined;
    }
  }

  /**
   * Opens `path`: the tailer, or why not: 'gone' (ENOENT, or it is not the file listed), 'emfile' (out of
   * descriptors: later, never "gone"), or the errno code of another problem (reported once).
   */
  async #open(
    path: string,
    recovering: boolean,
    expected?: { key: string; parked: ParkedAt | undefined },
  ): Promise<FileTailer | string> {
    let fd: number;
    try {
      fd = await openFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
      if (code === 'ENOENT') return 'gone';
      if (code === 'EMFILE' || code === 'ENFILE') {
        this.#descriptorCeiling = Math.max(1, this.#tailers.size - DESCRIPTOR_HEADROOM);
        this.#events.outOfDescriptors(code, this.#tailers.size, this.#descriptorCeiling);
        return 'emfile';
      }
      this.#events.cannotOpen(path, code);
      return code;
    }
    this.#events.opened(path);
    try {
      const stats = await fstatFile(fd);
      const key = inodeKey(stats.dev, stats.ino);
      if (this.#tailers.has(key) || !stats.isFile()) {
        await closeFile(fd);
        return 'gone';
      }
      // Another inode than expected (a rotation in between) is a file of its own, read from its checkpoint.
      const parked = expected?.key === key ? expected.parked : undefined;
      this.#waiting.delete(key);
      this.#waiters = undefined;
      const tailer = new FileTailer(this.#tailerOptions, fd, path, stats, parked);
      this.#tailers.set(key, tailer);
      if (!recovering && parked === undefined) this.#events.reading(path, stats.size);
      return tailer;
    } catch (error) {
      this.#events.cannotStatOpenFile(path, error);
      await closeFile(fd);
      return 'stat';
    }
  }

  /** Closes an open file read to its end to give its slot to a waiting one; false if it cannot be now. */
  async #park(tailer: FileTailer): Promise<boolean> {
    if (this.#rotation.isRotated(tailer)) return false;
    const parked = tailer.parkedAt();
    if (parked === undefined) return false;
    this.#mark(tailer);
    const key = inodeKey(tailer.dev, tailer.ino);
    this.#tailers.delete(key);
    this.#dirty.delete(tailer);
    this.#needsCheck.delete(tailer);
    await tailer.close();
    const file: ClosedFile = {
      path: tailer.path,
      checkpointed: 0,
      size: Math.max(tailer.size, parked.position),
      mtimeMs: Number.NaN,
      touched: false,
      parked,
      problem: undefined,
    };
    this.#waiting.set(key, file);
    this.#waiters = undefined;
    return true;
  }

  /**
   * True when some file waits for a slot that this one, read to its end, could give. Asked at every end
   * of file, so the answer is kept until the waiting list changes (a scan, an open, a problem).
   */
  #someoneWaits(): boolean {
    // With a slot free, a waiting file is being opened (a scan opens what it found, in turn) or gets one
    // at the next scan: closing this one gave it nothing, and only made this file be opened and
    // identified again (a window for a rewrite to race its identification).
    if (this.#tailers.size < this.#slots) return false;
    if (this.#tailers.size > this.#slots) return true;
    if (this.#waiters === undefined) {
      this.#waiters = false;
      for (const file of this.#waiting.values()) {
        if (needsTurn(file) && file.problem === undefined) {
          this.#waiters = true;
          break;
        }
      }
    }
    return this.#waiters;
  }

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
      const key = tailer.fileKey;
      try {
        if (this.#needsCheck.delete(tailer) && (await tailer.checkTruncation())) this.#rewritten(tailer, key);
        outcome = await tailer.readChunk(this.#buffer, this.#final);
      } catch (error) {
        this.#events.cannotRead(tailer.path, error);
        continue;
      }
      if (outcome === 'rewritten') this.#rewritten(tailer, key);
      const more = outcome === 'more' || outcome === 'rewritten';
      this.#sourceBehind(more || this.#dirty.size > 0);
      if (more) {
        this.#chunksRead++;
        this.#dirty.add(tailer);
      } else if (!this.#final && this.#rotation.dueForRelease(tailer)) await this.#release(tailer);
      else if (outcome === 'eof' && this.#someoneWaits()) {
        // The writer is gone at shutdown: what is held is final, so the file can be closed for good.
        if (this.#final) tailer.flushHeld();
        if (await this.#park(tailer)) await this.#fillSlots(false);
      }
    }
    this.#sourceBehind(false);
  }

  /** Tells delivery, on each change, whether more is waiting to be read now: it sizes batches by it. */
  #sourceBehind(behind: boolean): void {
    if (behind === this.#behind) return;
    this.#behind = behind;
    this.#delivery.sourceBehind(behind);
  }

  #rewritten(tailer: FileTailer, oldKey: string): void {
    this.#events.truncated(tailer.path);
    if (oldKey !== '') this.#checkpointer.rewritten(oldKey);
  }

  /** Takes each open file's content marker at its checkpointed offset (before a checkpoint write). */
  markOpenFiles(): void {
    for (const tailer of this.#tailers.values()) this.#mark(tailer);
  }

  #mark(tailer: FileTailer): void {
    const key = tailer.fileKey;
    if (key !== '') this.#checkpointer.mark(key, (offset) => tailer.markerAt(key, offset));
  }

  /** Lets go of a rotated file read to its end (see Rotation.dueForRelease). */
  async #release(tailer: FileTailer): Promise<void> {
    if (tailer.identity === undefined && !(await tailer.identifyFinal())) {
      // Nothing complete was ever in it.
    } else if (tailer.identity !== undefined) {
      // Read any last bytes before the held partial line is flushed as final.
      while ((await tailer.readChunk(this.#buffer, true)) === 'more') {}
      tailer.flushHeld();
    }
    this.#mark(tailer);
    this.#tailers.delete(inodeKey(tailer.dev, tailer.ino));
    this.#rotation.released(tailer);
    await tailer.close();
    this.#events.rotatedFileClosed(tailer.path);
    await this.#fillSlots(false);
  }

  /**
   * Shutdown: reads every open file to its end, then emits each partial last line and pending multiline
   * group (the writer is gone, so they are final). Stops early when `signal` aborts; a later call goes on
   * from where that one stopped (after the deadline, the rest of each file goes to stdout).
   */
  async readToEnd(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    this.#final = true;
    this.#stopReading = false;
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
      // Files that could not be opened get one more try; the others get their turn as slots free up.
      await this.#fillSlots(true);
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
}
