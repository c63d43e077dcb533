import type { Stats } from 'node:fs';
import type { LogRecord } from '../record.js';
import type { RecordBuilder } from '../record-builder.js';
import { closeFile, fstatFile, pread } from './file-handle.js';
import { type FileIdentity, readIdentity, sameContentStart } from './file-identity.js';
import { LineFramer, type LineHandler } from './line-framer.js';
import { Multiline, type MultilineMode } from './multiline.js';

/** How a tailer reads and where its records and counts go; the same for every file. */
export interface TailerOptions {
  readonly builder: RecordBuilder;
  readonly sinkNames: readonly string[];
  readonly maxLineBytes: number;
  readonly multiline: MultilineMode;
  readonly multilineTimeoutMs: number;
  readonly now: () => number;
  /** Hands a record to the delivery (`sinks` undefined: every sink). */
  readonly accept: (record: LogRecord, sinks: readonly string[] | undefined) => void;
  /** Called once the file's identity is known; returns each sink's checkpointed offset for it. */
  readonly identified: (tailer: FileTailer) => ReadonlyMap<string, number>;
  /** Per-chunk counters. */
  readonly counted: (bytes: number, records: number, truncated: number) => void;
}

export type ReadOutcome = 'more' | 'eof' | 'wait';

/**
 * Reads one open file from an offset, a chunk at a time into a buffer the pipeline lends it, and turns
 * its bytes into records. It holds the file descriptor, so it keeps reading a file renamed or deleted
 * under it to its end; only the file server decides when to let go (`source/rotation.ts` says when).
 */
export class FileTailer {
  readonly dev: number;
  readonly ino: number;
  #path: string;
  /** `dev-ino-fingerprint` once identified; records are emitted only after that. */
  #fileKey = '';
  #identity: FileIdentity | undefined;
  #size: number;
  #lastDataAt = 0;
  #closed = false;

  readonly #fd: number;
  readonly #options: TailerOptions;
  readonly #framer: LineFramer;
  readonly #multiline: Multiline | undefined;
  #multilineTimer: NodeJS.Timeout | undefined;
  /** The last read found the end of the file (a read that fills the whole buffer may not have). */
  #readToEnd = false;
  #readAt = 0;
  #chunkRecords = 0;
  #chunkTruncated = 0;
  /** After a restart, sinks whose checkpoint is ahead of others: records below it skip that sink. */
  #sinkFloors: ReadonlyMap<string, number> | undefined;
  #floorMax = 0;

  constructor(options: TailerOptions, fd: number, path: string, stats: Stats) {
    this.#options = options;
    this.#fd = fd;
    this.#path = path;
    this.dev = stats.dev;
    this.ino = stats.ino;
    this.#size = stats.size;
    this.#framer = new LineFramer(options.maxLineBytes, this.#onLine);
    if (options.multiline.kind !== 'none') {
      this.#multiline = new Multiline(options.multiline, options.maxLineBytes, this.#emit);
    }
  }

  /** Path the file is known by (a rename that keeps it under a watched name changes it). */
  get path(): string {
    return this.#path;
  }

  renamed(path: string): void {
    this.#path = path;
  }

  /** `dev-ino-fingerprint` once identified, '' before. */
  get fileKey(): string {
    return this.#fileKey;
  }

  get identity(): FileIdentity | undefined {
    return this.#identity;
  }

  /** Size seen at the last stat. */
  get size(): number {
    return this.#size;
  }

  /** Last time a read returned bytes (0: never). */
  get lastDataAt(): number {
    return this.#lastDataAt;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Offset of the next byte to read. */
  get position(): number {
    return this.#framer.position;
  }

  /** True when a partial line or multiline group is held. */
  get holding(): boolean {
    return this.#framer.heldBytes > 0 || this.#multiline?.pending === true;
  }

  /**
   * Reads one chunk. 'wait': the first line is not complete yet, so the file cannot be identified;
   * 'eof': nothing more right now; 'more': call again.
   */
  async readChunk(buffer: Buffer, final = false): Promise<ReadOutcome> {
    if (this.#identity === undefined && !(await this.#identify(final))) return 'wait';
    const bytes = await pread(this.#fd, buffer, buffer.length, this.#framer.position);
    this.#readToEnd = bytes < buffer.length;
    if (bytes === 0) return 'eof';
    this.#readAt = this.#options.now();
    this.#lastDataAt = this.#readAt;
    this.#chunkRecords = 0;
    this.#chunkTruncated = 0;
    this.#framer.push(buffer, bytes);
    this.#options.counted(bytes, this.#chunkRecords, this.#chunkTruncated);
    if (this.#multiline?.pending) this.#armMultilineTimer();
    return 'more';
  }

  /**
   * Checks the file against what was read: smaller than the read offset (truncate, copytruncate) or its
   * first line changed (copytruncate followed by new writes) means it is read again from the start.
   * Returns true when that happened.
   */
  async checkTruncation(): Promise<boolean> {
    const stats = await fstatFile(this.#fd);
    this.#size = stats.size;
    const identity = this.#identity;
    if (identity === undefined) return false;
    let truncated = stats.size < this.#framer.position;
    if (!truncated) {
      const head = Buffer.allocUnsafe(identity.fingerprintBytes);
      const bytes = await pread(this.#fd, head, identity.fingerprintBytes, 0);
      truncated = !sameContentStart(identity, head, bytes);
    }
    if (!truncated) return false;
    // What was held belongs to the old content: emit it under the old identity before starting over.
    this.flushHeld();
    this.#identity = undefined;
    this.#fileKey = '';
    this.#sinkFloors = undefined;
    this.#framer.reset(0);
    return true;
  }

  /** Emits the partial last line and any pending multiline group (shutdown, or the file is let go). */
  flushHeld(): void {
    if (this.#identity === undefined) return;
    this.#readAt = this.#options.now();
    this.#chunkRecords = 0;
    this.#chunkTruncated = 0;
    this.#framer.flush();
    this.#multiline?.flush();
    this.#clearMultilineTimer();
    if (this.#chunkRecords > 0) this.#options.counted(0, this.#chunkRecords, this.#chunkTruncated);
  }

  /** At shutdown: a file whose only line never ended is identified by what it has. */
  async identifyFinal(): Promise<boolean> {
    return this.#identity !== undefined || (await this.#identify(true));
  }

  close(): Promise<void> {
    this.#clearMultilineTimer();
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return closeFile(this.#fd);
  }

  async #identify(final: boolean): Promise<boolean> {
    const identity = await readIdentity(this.#fd, this.dev, this.ino, final);
    if (identity === undefined) return false;
    this.#identity = identity;
    this.#fileKey = identity.key;
    const offsets = this.#options.identified(this);
    let resume = Number.POSITIVE_INFINITY;
    let highest = 0;
    for (const sink of this.#options.sinkNames) {
      const offset = offsets.get(sink) ?? 0;
      resume = Math.min(resume, offset);
      highest = Math.max(highest, offset);
    }
    if (!Number.isFinite(resume)) resume = 0;
    const size = (await fstatFile(this.#fd)).size;
    if (highest > size) {
      // Same first line, shorter file: it was truncated and rewritten while we were not running.
      resume = 0;
      highest = 0;
    }
    if (highest > resume) {
      this.#sinkFloors = offsets;
      this.#floorMax = highest;
    }
    this.#framer.reset(resume);
    return true;
  }

  readonly #onLine: LineHandler = (buffer, start, end, offset, endOffset, truncated) => {
    const text = buffer.toString('utf8', start, end);
    if (this.#multiline === undefined) this.#emit(text, offset, endOffset, truncated);
    else this.#multiline.push(text, offset, endOffset, truncated);
  };

  readonly #emit = (message: string, offset: number, endOffset: number, truncated: boolean): void => {
    const record = this.#options.builder.build(this, message, offset, endOffset, truncated, this.#readAt);
    this.#chunkRecords++;
    if (truncated) this.#chunkTruncated++;
    this.#options.accept(record, this.#sinkFloors === undefined ? undefined : this.#sinksFor(offset));
  };

  #sinksFor(offset: number): readonly string[] | undefined {
    const floors = this.#sinkFloors!;
    if (offset >= this.#floorMax) {
      this.#sinkFloors = undefined;
      return undefined;
    }
    return this.#options.sinkNames.filter((sink) => (floors.get(sink) ?? 0) <= offset);
  }

  #armMultilineTimer(): void {
    if (this.#multilineTimer !== undefined) {
      this.#multilineTimer.refresh();
      return;
    }
    this.#multilineTimer = setTimeout(() => {
      this.#multilineTimer = undefined;
      void this.#multilineTimeout();
    }, this.#options.multilineTimeoutMs);
  }

  /**
   * `--multiline-timeout` counts quiet time of the file, not time spent not reading it: while reading is
   * paused (backpressure) or the file waits for its turn, the group's last lines may be in the file
   * unread. So the group is emitted only when everything the file holds has been read; otherwise the
   * timer starts again and the lines decide once they are read.
   */
  async #multilineTimeout(): Promise<void> {
    if (!this.#multiline?.pending || this.#closed) return;
    let unread = !this.#readToEnd;
    if (!unread) {
      try {
        unread = (await fstatFile(this.#fd)).size > this.#framer.position;
      } catch {
        // Cannot tell: treat the file as quiet, as before this check existed.
      }
      // A read during the stat started the timer again (or ended the group): it decides now.
      if (this.#multilineTimer !== undefined || !this.#multiline.pending || this.#closed) return;
    }
    if (unread) {
      this.#armMultilineTimer();
      return;
    }
    this.#readAt = this.#options.now();
    this.#chunkRecords = 0;
    this.#chunkTruncated = 0;
    this.#multiline.flush();
    this.#options.counted(0, this.#chunkRecords, this.#chunkTruncated);
  }

  #clearMultilineTimer(): void {
    if (this.#multilineTimer !== undefined) clearTimeout(this.#multilineTimer);
    this.#multilineTimer = undefined;
  }
}
