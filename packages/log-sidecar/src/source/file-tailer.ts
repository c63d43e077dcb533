import type { Stats } from 'node:fs';
import type { LogRecord } from '../record.js';
import type { RecordBuilder } from '../record-builder.js';
import { closeFile, fstatFile, pread } from './file-handle.js';
import {
  type ContentMarker,
  type FileIdentity,
  MARKER_MAX_BYTES,
  markedBytes,
  markerMatches,
  readIdentity,
  readMarkerSync,
  sameContentStart,
} from './file-identity.js';
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
  /**
   * Hands a record to the delivery (`sinks` undefined: every sink). False: the delivery's memory bound is
   * reached (it holds the record all the same); the read stops after this record's line.
   */
  readonly accept: (record: LogRecord, sinks: readonly string[] | undefined) => boolean;
  /** Checkpointed content with this identity base, newest first: where the file may resume. */
  readonly candidates: (base: string) => readonly ResumeCandidate[];
  /** A key for content of `base` that no checkpoint or record uses yet. */
  readonly freshKey: (base: string) => string;
  /** Called once the file's identity is known; returns each sink's checkpointed offset for it. */
  readonly identified: (tailer: FileTailer) => ReadonlyMap<string, number>;
  /** A checkpoint of this file's base could not be resumed (see `NotResumable`); it is read from 0. */
  readonly notResumable: (tailer: FileTailer, why: NotResumable) => void;
  /** Per-chunk counters. */
  readonly counted: (bytes: number, records: number, truncated: number) => void;
}

/** A checkpoint entry that might be this file's: its key, each sink's offset, and its content marker. */
export interface ResumeCandidate {
  readonly key: string;
  readonly offsets: readonly number[];
  readonly marker: ContentMarker | undefined;
}

/** Where a file closed to free its slot (read to `position`, under `key`) is to go on when reopened. */
export interface ParkedAt {
  readonly base: string;
  readonly key: string;
  readonly position: number;
  /** The bytes before `position` when it was closed: checked again before going on. */
  readonly marker: ContentMarker | undefined;
}

/** `changed`: the file no longer holds what was checkpointed; `unverifiable`: the entry has no marker. */
export type NotResumable = { readonly offset: number; readonly reason: 'changed' | 'unverifiable' };

/**
 * Where an identified file goes on: under `key` (undefined: a fresh one), from `goOnAt` (undefined: the
 * sinks' checkpoints of `key`), and why a checkpoint or parked offset of it was refused, if one was.
 */
interface Resume {
  readonly key?: string;
  readonly goOnAt?: number;
  readonly refused?: NotResumable;
  readonly verified?: Verified;
}

/** The bytes before a resume offset as they were verified (at most MARKER_MAX_BYTES of them). */
interface Verified {
  readonly offset: number;
  readonly bytes: Buffer;
}

/**
 * Identifications tried in a row when the first line changes under each one (a file truncated and written
 * again that fast, again and again); after that the next read tries again.
 */
const IDENTIFY_ATTEMPTS = 3;

/**
 * 'wait': the first line is not complete yet (or it changed under each try, see IDENTIFY_ATTEMPTS), so
 * the file cannot be identified; 'eof': nothing more right now; 'more': call again; 'rewritten': the bytes
 * before the read offset are not the ones read there, so the file was truncated and written again: it is
 * read again from 0 under a new key (call again).
 */
export type ReadOutcome = 'more' | 'eof' | 'wait' | 'rewritten';

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
  /** The last bytes before the read offset, as read: each read starts by reading them again to compare. */
  readonly #tail = Buffer.allocUnsafe(MARKER_MAX_BYTES);
  #tailLength = 0;
  /** Set when a rewrite was found: the next identification takes a fresh key and resumes nothing. */
  #rewritten = false;
  /** Set when reopened after being closed to free its slot: where it goes on (if still the same). */
  #parked: ParkedAt | undefined;

  constructor(options: TailerOptions, fd: number, path: string, stats: Stats, parked?: ParkedAt) {
    this.#options = options;
    this.#parked = parked;
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

  /**
   * Where this file goes on if closed now to free its slot and opened again, or undefined when it cannot
   * be closed now: not identified yet, or holding a partial line or multiline group.
   */
  parkedAt(): ParkedAt | undefined {
    const identity = this.#identity;
    if (identity === undefined || this.holding) return undefined;
    const position = this.#framer.position;
    return {
      base: identity.base,
      key: identity.key,
      position,
      marker: this.markerAt(identity.key, position),
    };
  }

  /** True when a partial line or multiline group is held. */
  get holding(): boolean {
    return this.#framer.heldBytes > 0 || this.#multiline?.pending === true;
  }

  /**
   * Reads one chunk (see ReadOutcome). Every read also reads again the last bytes before the offset and
   * compares them with what was read there: a file truncated and rewritten between two reads, even with
   * the same first line and to a larger size, is caught before a byte of it is framed at the old offset.
   */
  async readChunk(buffer: Buffer, final = false): Promise<ReadOutcome> {
    if (this.#identity === undefined && !(await this.#identify(final))) return 'wait';
    const tail = this.#tailLength;
    const bytes = await pread(this.#fd, buffer, buffer.length, this.#framer.position - tail);
    if (tail > 0 && (bytes < tail || buffer.compare(this.#tail, 0, tail, 0, tail) !== 0)) {
      // The size of the old content would otherwise stay until the next scan: the lag metric and the size
      // a checkpoint keeps for reporting unread bytes lost would count bytes the file no longer has.
      this.#size = (await fstatFile(this.#fd)).size;
      this.#restart();
      return 'rewritten';
    }
    this.#readToEnd = bytes < buffer.length;
    const fresh = bytes - tail;
    if (fresh === 0) return 'eof';
    this.#readAt = this.#options.now();
    this.#lastDataAt = this.#readAt;
    this.#chunkRecords = 0;
    this.#chunkTruncated = 0;
    // The framer stops after the line whose record filled the delivery's buffer: the rest of the chunk is
    // read again once there is room, so a read never holds more than one record beyond the bound.
    const framed = this.#framer.push(tail === 0 ? buffer : buffer.subarray(tail, bytes), fresh);
    if (framed < fresh) this.#readToEnd = false;
    const end = tail + framed;
    const keep = Math.min(MARKER_MAX_BYTES, end);
    buffer.copy(this.#tail, 0, end - keep, end);
    this.#tailLength = keep;
    this.#options.counted(end, this.#chunkRecords, this.#chunkTruncated);
    if (this.#multiline?.pending) this.#armMultilineTimer();
    return 'more';
  }

  /**
   * Checks the file against what was read: smaller than the read offset (truncate, copytruncate), its
   * first line changed (copytruncate followed by new writes), or the bytes just before the read offset
   * changed (rewritten with the same first line) means it is read again from the start, under a new key.
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
    if (!truncated && this.#tailLength > 0) {
      const tail = Buffer.allocUnsafe(this.#tailLength);
      const bytes = await pread(this.#fd, tail, this.#tailLength, this.#framer.position - this.#tailLength);
      truncated = bytes < this.#tailLength || tail.compare(this.#tail, 0, this.#tailLength) !== 0;
    }
    if (!truncated) return false;
    this.#restart();
    return true;
  }

  /**
   * The content marker of the bytes before `offset` (a checkpointed offset of this content, read already),
   * or undefined if this tailer cannot vouch for them: the offset is beyond what it read, or the file is
   * closed or being read again after a rewrite.
   */
  markerAt(key: string, offset: number): ContentMarker | undefined {
    if (this.#closed || key !== this.#fileKey || offset > this.#framer.position) return undefined;
    try {
      return readMarkerSync(this.#fd, offset);
    } catch {
      return undefined;
    }
  }

  /** The file was rewritten: start over from 0, under a fresh key once identified again. */
  #restart(): void {
    // What was held belongs to the old content: emit it under the old identity before starting over.
    this.flushHeld();
    this.#identity = undefined;
    this.#fileKey = '';
    this.#sinkFloors = undefined;
    this.#tailLength = 0;
    this.#rewritten = true;
    this.#framer.reset(0);
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
    for (let attempt = 0; attempt < IDENTIFY_ATTEMPTS; attempt++) {
      const base = await readIdentity(this.#fd, this.dev, this.ino, final);
      if (base === undefined) return false;
      const size = (await fstatFile(this.#fd)).size;
      const decided = await this.#resumeFrom(base.base, size);
      // Truncated and written again since the first line was read, what was decided is about content no
      // longer there: a refusal would count the rewrite, then the first truncation check, finding another
      // first line than the identity's, would count it again and read the new content a second time.
      // Decide again on what the file holds now.
      if ((await readIdentity(this.#fd, this.dev, this.ino, final))?.base !== base.base) continue;
      await this.#identified(base, decided);
      return true;
    }
    return false;
  }

  /**
   * Where content with identity base `base` goes on in a file of `size` bytes: at the offset it was
   * parked at, at a checkpoint of the same content, or from 0 under a fresh key (and why not resumed).
   */
  async #resumeFrom(base: string, size: number): Promise<Resume> {
    if (this.#rewritten) return {};
    const parked = this.#parked;
    if (parked !== undefined) {
      // Reopened after freeing its slot: go on where it was, if it still holds what was read there.
      const bytes =
        parked.base === base && size >= parked.position && parked.marker !== undefined
          ? await markedBytes(this.#fd, parked.marker)
          : undefined;
      if (bytes !== undefined) {
        return { key: parked.key, goOnAt: parked.position, verified: { offset: parked.position, bytes } };
      }
      return { refused: { offset: parked.position, reason: 'changed' } };
    }
    let refused: NotResumable | undefined;
    for (const candidate of this.#options.candidates(base)) {
      const why = await this.#whyNotResumable(candidate, size);
      if (why === undefined) return { key: candidate.key };
      if ('bytes' in why) return { key: candidate.key, verified: why };
      refused ??= why;
    }
    return { refused };
  }

  /** Takes `base` as this file's identity and goes on where `decided` says. */
  async #identified(base: FileIdentity, decided: Resume): Promise<void> {
    const { goOnAt, refused } = decided;
    const key = decided.key ?? this.#options.freshKey(base.base);
    this.#parked = undefined;
    this.#rewritten = false;
    this.#identity = { ...base, key };
    this.#fileKey = key;
    if (refused !== undefined) this.#options.notResumable(this, refused);
    const offsets = this.#options.identified(this);
    let resume = Number.POSITIVE_INFINITY;
    let highest = 0;
    for (const sink of this.#options.sinkNames) {
      const offset = offsets.get(sink) ?? 0;
      resume = Math.min(resume, offset);
      highest = Math.max(highest, offset);
    }
    if (!Number.isFinite(resume)) resume = 0;
    // Records up to where it was are with the delivery already (no sink's checkpoint is beyond that).
    if (goOnAt !== undefined) resume = highest = goOnAt;
    if (highest > resume) {
      this.#sinkFloors = offsets;
      this.#floorMax = highest;
    }
    this.#framer.reset(resume);
    // The first read compares the bytes before the resume offset again. They are the ones verified while
    // deciding, not read anew: a truncation and rewrite with the same first line since the check would
    // otherwise give bytes of the new content, and its start would be skipped without a word.
    const tail = Math.min(MARKER_MAX_BYTES, resume);
    const verified = decided.verified;
    if (verified !== undefined && verified.offset === resume && verified.bytes.length >= tail) {
      verified.bytes.copy(this.#tail, 0, verified.bytes.length - tail);
      this.#tailLength = tail;
      return;
    }
    this.#tailLength = tail === 0 ? 0 : await pread(this.#fd, this.#tail, tail, resume - tail);
    if (this.#tailLength < tail) this.#tailLength = 0;
  }

  /**
   * When this file may resume from `candidate`: undefined if nothing is checkpointed, else the bytes
   * before the resume offset, verified (the file is long enough, still holds the marker's bytes, and has
   * a newline just before the resume offset: a record never starts mid-line). Otherwise why not.
   */
  async #whyNotResumable(
    candidate: ResumeCandidate,
    size: number,
  ): Promise<NotResumable | Verified | undefined> {
    const highest = Math.max(0, ...candidate.offsets);
    if (highest === 0) return undefined;
    const resume = Math.min(...candidate.offsets);
    const changed: NotResumable = { offset: resume, reason: 'changed' };
    if (highest > size) return changed;
    const marker = candidate.marker;
    if (marker === undefined) return { offset: resume, reason: 'unverifiable' };
    if (marker.offset > size || !(await markerMatches(this.#fd, marker))) return changed;
    if (resume === 0) return undefined;
    const length = Math.min(MARKER_MAX_BYTES, resume);
    const before = Buffer.allocUnsafe(length);
    const read = await pread(this.#fd, before, length, resume - length);
    return read === length && before[length - 1] === 10 ? { offset: resume, bytes: before } : changed;
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
    const sinks = this.#sinkFloors === undefined ? undefined : this.#sinksFor(offset);
    if (!this.#options.accept(record, sinks)) this.#framer.halt();
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
