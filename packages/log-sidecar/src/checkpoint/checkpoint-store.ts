import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import type { ContentMarker } from '../source/file-identity.js';

/**
 * 2 added `base` and `marker` to each entry. A version-1 file is still read: its entries have no marker,
 * so a file with something checkpointed cannot be proved unchanged and is read again from its start once
 * (duplicates, never loss).
 */
export const CHECKPOINT_FORMAT_VERSION = 2;
const READABLE_VERSIONS = new Set([1, 2]);
const FILE_NAME = 'checkpoints.json';

/** What is known of one file identity. */
export interface CheckpointEntry {
  /** The identity's `dev-ino-fingerprint`: entries of content rewritten under one base share it. */
  base: string;
  /**
   * A hash of the bytes just before an offset (at most the lowest sink offset), taken while the file was
   * open: a file is resumed from this entry only if it still holds those bytes there. Undefined: unknown
   * (an entry of format 1), so the file is read again from its start.
   */
  marker?: ContentMarker;
  /** Path the file had when last seen (for logs, and to look for it again after a rename). */
  path: string;
  dev: number;
  ino: number;
  /** Per sink: every byte before this offset is settled (delivered or rejected). Always a line boundary. */
  offsets: Record<string, number>;
  /** When the file was last seen by discovery (ms since the epoch): drives garbage collection. */
  seenAt: number;
  /**
   * Its size when last seen (absent in older files). A file found nowhere after a restart lost the bytes
   * from its resume offset to here: they are reported, not dropped in silence.
   */
  size?: number;
}

interface CheckpointFile {
  version: number;
  writtenAt: string;
  files: Record<string, CheckpointEntry>;
}

export type LoadOutcome =
  | { readonly kind: 'loaded'; readonly files: number; readonly version: number }
  | { readonly kind: 'missing' }
  /** The file exists but cannot be used; every file is read from its start (duplicates, never loss). */
  | { readonly kind: 'unusable'; readonly reason: string };

/**
 * Per file identity and per sink, the highest contiguous settled offset. Persisted as one small JSON
 * document written atomically (temp file, fsync, rename, fsync of the directory) with a format version,
 * so a crash at any instant leaves either the old or the new checkpoint, never a torn one.
 */
export class CheckpointStore {
  readonly #dir: string;
  readonly #path: string;
  #files = new Map<string, CheckpointEntry>();
  #dirty = false;

  constructor(dir: string) {
    this.#dir = dir;
    this.#path = join(dir, FILE_NAME);
  }

  get path(): string {
    return this.#path;
  }

  get dirty(): boolean {
    return this.#dirty;
  }

  /** Reads the checkpoint file if there is one. Never throws: an unusable file is reported, not fatal. */
  load(): LoadOutcome {
    let text: string;
    try {
      text = readFileSync(this.#path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
      return { kind: 'unusable', reason: `cannot be read (${(error as NodeJS.ErrnoException).code})` };
    }
    let document: Partial<CheckpointFile>;
    try {
      document = JSON.parse(text) as Partial<CheckpointFile>;
    } catch (error) {
      return { kind: 'unusable', reason: `is not valid JSON (${(error as Error).message})` };
    }
    if (
      document === null ||
      typeof document !== 'object' ||
      typeof document.version !== 'number' ||
      !READABLE_VERSIONS.has(document.version)
    ) {
      return {
        kind: 'unusable',
        reason: `has format version ${JSON.stringify(document?.version)}, this build reads ${[...READABLE_VERSIONS].join(' and ')}`,
      };
    }
    const files = new Map<string, CheckpointEntry>();
    for (const [key, entry] of Object.entries(document.files ?? {})) {
      if (!isEntry(entry)) continue;
      // Format 1: keys were bases, and there was no marker.
      const base = typeof entry.base === 'string' ? entry.base : key;
      const marker = isMarker(entry.marker) ? { ...entry.marker } : undefined;
      files.set(key, { ...entry, base, marker, offsets: { ...entry.offsets } });
    }
    this.#files = files;
    return { kind: 'loaded', files: files.size, version: document.version };
  }

  get(key: string): Readonly<CheckpointEntry> | undefined {
    return this.#files.get(key);
  }

  entries(): IterableIterator<[string, Readonly<CheckpointEntry>]> {
    return this.#files.entries();
  }

  /** Entries of content with identity base `base` (the same inode and first line), newest seen first. */
  withBase(base: string): [string, Readonly<CheckpointEntry>][] {
    return [...this.#files]
      .filter(([, entry]) => entry.base === base)
      .sort(([, a], [, b]) => b.seenAt - a.seenAt);
  }

  /** Sets the content marker of `key`, if it has an entry. */
  mark(key: string, marker: ContentMarker | undefined): void {
    const entry = this.#files.get(key);
    if (entry === undefined || entry.marker === marker) return;
    entry.marker = marker;
    this.#dirty = true;
  }

  /** The offset settled for `sink`, 0 if none. */
  offset(key: string, sink: string): number {
    return this.#files.get(key)?.offsets[sink] ?? 0;
  }

  /**
   * An entry for `key` with nothing settled yet, if it has none: from its first read on, the checkpoint
   * knows the file and its size, so a restart can tell what its deletion took even if nothing was settled.
   */
  ensure(key: string, file: { base: string; path: string; dev: number; ino: number }, now: number): void {
    if (this.#files.has(key)) return;
    this.#files.set(key, {
      base: file.base,
      path: file.path,
      dev: file.dev,
      ino: file.ino,
      offsets: {},
      seenAt: now,
    });
    this.#dirty = true;
  }

  /** Records that `sink` has settled everything of `key` before `offset`; never moves backwards. */
  advance(
    key: string,
    sink: string,
    offset: number,
    file: { base: string; path: string; dev: number; ino: number },
    now: number,
  ): void {
    this.ensure(key, file, now);
    const entry = this.#files.get(key)!;
    entry.path = file.path;
    entry.seenAt = now;
    if ((entry.offsets[sink] ?? 0) < offset) {
      entry.offsets[sink] = offset;
      this.#dirty = true;
    }
  }

  /** Marks a file as still present, so it is not garbage-collected. */
  touch(key: string, path: string, now: number, size?: number): void {
    const entry = this.#files.get(key);
    if (entry === undefined) return;
    if (entry.path !== path) this.#dirty = true;
    entry.path = path;
    entry.seenAt = now;
    if (size !== undefined && entry.size !== size) {
      entry.size = size;
      this.#dirty = true;
    }
  }

  /** What is known of `key` up to its resume offset is all there is: its loss past that was reported. */
  settleSize(key: string, size: number): void {
    const entry = this.#files.get(key);
    if (entry === undefined || entry.size === size) return;
    entry.size = size;
    this.#dirty = true;
  }

  /** Removes entries not seen for `graceMs`; returns the paths they had. */
  collectGarbage(now: number, graceMs: number, live: ReadonlySet<string>): string[] {
    const removed: string[] = [];
    for (const [key, entry] of this.#files) {
      if (!live.has(key) && now - entry.seenAt > graceMs) {
        this.#files.delete(key);
        removed.push(entry.path);
        this.#dirty = true;
      }
    }
    return removed;
  }

  /** Writes atomically. Throws on failure (the caller counts it and tries again later). */
  write(): void {
    const document: CheckpointFile = {
      version: CHECKPOINT_FORMAT_VERSION,
      writtenAt: new Date().toISOString(),
      files: Object.fromEntries(this.#files),
    };
    mkdirSync(this.#dir, { recursive: true });
    const temp = `${this.#path}.tmp`;
    const fd = openSync(temp, 'w', 0o644);
    try {
      writeSync(fd, `${JSON.stringify(document)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.#path);
    // The rename itself is durable only once the directory entry is.
    const dirFd = openSync(this.#dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    this.#dirty = false;
  }
}

function isMarker(value: unknown): value is ContentMarker {
  if (value === null || typeof value !== 'object') return false;
  const marker = value as Partial<ContentMarker>;
  return (
    Number.isSafeInteger(marker.offset) &&
    Number.isSafeInteger(marker.bytes) &&
    marker.bytes! >= 0 &&
    marker.bytes! <= marker.offset! &&
    typeof marker.hash === 'string'
  );
}

function isEntry(value: unknown): value is Omit<CheckpointEntry, 'base'> & { base?: unknown } {
  if (value === null || typeof value !== 'object') return false;
  const entry = value as Partial<CheckpointEntry>;
  return (
    typeof entry.path === 'string' &&
    typeof entry.dev === 'number' &&
    typeof entry.ino === 'number' &&
    typeof entry.seenAt === 'number' &&
    (entry.size === undefined || (Number.isSafeInteger(entry.size) && entry.size >= 0)) &&
    entry.offsets !== null &&
    typeof entry.offsets === 'object' &&
    Object.values(entry.offsets).every((offset) => Number.isSafeInteger(offset) && offset >= 0)
  );
}
