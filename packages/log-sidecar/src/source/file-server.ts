import type { Stats } from 'node:fs';
import type { Checkpointer, OpenFileExtent } from '../checkpoint/checkpointer.js';
import type { Delivery } from '../delivery/delivery.js';
import type { SourceEvents } from '../events.js';
import type { RecordBuilder } from '../record-builder.js';
import type { FileLag } from '../source-metrics.js';
import { closeFile, fstatFile, openFile } from './file-handle.js';
import { FileTailer, type ReadOutcome, type TailerOptions } from './file-tailer.js';
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
  readonly now: () => number;
}

function inodeKey(dev: number, ino: number): string {
  return `${dev}:${ino}`;
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
  /** Files with something to do, in the order they get a turn. */
  readonly #dirty = new Set<FileTailer>();
  readonly #needsCheck = new Set<FileTailer>();
  #loop: Promise<void> | undefined;
  #paused = false;
  #stopReading = false;
  #wakeStop: (() => void) | undefined;
  #final = false;
  #recovered = false;
  #scanned = false;

  constructor(options: FileServerOptions) {
    this.#delivery = options.delivery;
    this.#checkpointer = options.checkpointer;
    this.#events = options.events;
    this.#buffer = Buffer.allocUnsafe(options.readBufferBytes);
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
        if (!this.#delivery.accept(record, sinks)) this.#paused = true;
      },
      identified: (tailer) =>
        this.#checkpointer.identified({
          key: tailer.identity!.key,
          path: tailer.path,
          dev: tailer.dev,
          ino: tailer.ino,
        }),
      counted: (bytes, records, truncated) => this.#events.chunkRead(bytes, records, truncated),
    };
  }

  /** Reconciles open files with what discovery found: new files, renames, rotations, deletions. */
  readonly reconcile = async (found: ReadonlyMap<string, Stats>): Promise<void> => {
    this.#events.scanned();
    const byInode = new Map<string, string>();
    for (const [path, stats] of found) byInode.set(inodeKey(stats.dev, stats.ino), path);
    for (const [key, tailer] of this.#tailers) this.#rotation.observe(tailer, byInode.get(key));
    for (const [path, stats] of found) {
      if (!this.#tailers.has(inodeKey(stats.dev, stats.ino))) await this.#open(path, false);
    }
    this.#events.openProblemsGone(found);
    if (!this.#recovered) {
      this.#recovered = true;
      await this.#rotation.recover(
        (dev, ino) => this.#tailers.has(inodeKey(dev, ino)),
        (path) => this.#open(path, true),
      );
    }
    for (const tailer of this.#tailers.values()) {
      if (tailer.identity !== undefined) this.#checkpointer.seen(tailer.identity.key, tailer.path);
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

  /** Keys of the open files once a scan has said which files exist; undefined before. */
  liveKeys(): string[] | undefined {
    if (!this.#scanned) return undefined;
    const keys: string[] = [];
    for (const tailer of this.#tailers.values()) if (tailer.identity) keys.push(tailer.identity.key);
    return keys;
  }

  /** The open files and how far each reaches, for the deadline report. */
  openFiles(): OpenFileExtent[] {
    return [...this.#tailers.values()].map((tailer) => ({
      key: tailer.identity?.key,
      path: tailer.path,
      size: Math.max(tailer.size, tailer.position),
    }));
  }

  /** Open files and their lag, for the metrics. */
  *files(): Iterable<FileLag> {
    for (const tailer of this.#tailers.values()) {
      const settled =
        tailer.identity === undefined ? 0 : this.#checkpointer.settledOffset(tailer.identity.key);
      yield { path: tailer.path, lagBytes: Math.max(0, Math.max(tailer.size, tailer.position) - settled) };
    }
  }

  async #open(path: string, recovering: boolean): Promise<FileTailer | undefined> {
    let fd: number;
    try {
      fd = await openFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
      if (code !== 'ENOENT') this.#events.cannotOpen(path, code);
      return undefined;
    }
    this.#events.opened(path);
    try {
      const stats = await fstatFile(fd);
      const key = inodeKey(stats.dev, stats.ino);
      if (this.#tailers.has(key) || !stats.isFile()) {
        await closeFile(fd);
        return undefined;
      }
      const tailer = new FileTailer(this.#tailerOptions, fd, path, stats);
      this.#tailers.set(key, tailer);
      if (!recovering) this.#events.reading(path, stats.size);
      return tailer;
    } catch (error) {
      this.#events.cannotStatOpenFile(path, error);
      return undefined;
    }
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
      try {
        if (this.#needsCheck.delete(tailer) && (await tailer.checkTruncation())) {
          this.#events.truncated(tailer.path);
        }
        outcome = await tailer.readChunk(this.#buffer, this.#final);
      } catch (error) {
        this.#events.cannotRead(tailer.path, error);
        continue;
      }
      if (outcome === 'more') this.#dirty.add(tailer);
      else if (!this.#final && this.#rotation.dueForRelease(tailer)) await this.#release(tailer);
    }
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
    this.#tailers.delete(inodeKey(tailer.dev, tailer.ino));
    this.#rotation.released(tailer);
    await tailer.close();
    this.#events.rotatedFileClosed(tailer.path);
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
