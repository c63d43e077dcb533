import type { Stats } from 'node:fs';
import type { Checkpointer } from '../checkpoint/checkpointer.js';
import type { SourceEvents } from '../events.js';
import { closeFile, openFile } from './file-handle.js';
import { readIdentity } from './file-identity.js';
import type { FileTailer } from './file-tailer.js';
import { findByInode, inodeKey } from './inode-search.js';

// Everything the source knows about rotation, in one place: which names are rotated names, which rotated
// siblings discovery hands over, when an open file counts as renamed or rotated away, when a rotated file
// is let go, and how a restart finds a rotated file it had not finished.

/**
 * Suffixes rotation adds to a file's name: `.N` (Python's RotatingFileHandler, logrotate), `.%Y-%m-%d`
 * with optional `_%H`, `_%H-%M`, `_%H-%M-%S` (TimedRotatingFileHandler), `-%Y%m%d` (logrotate dateext).
 * Each ends in a digit, so a compressed file (`.gz`, `.bz2`, `.xz`, `.zst`) never fits: it is not text.
 */
const ROTATION_SUFFIXES = [/\.\d+$/, /\.\d{4}-\d{2}-\d{2}(?:_\d{2}(?:-\d{2}){0,2})?$/, /-\d{8}$/];

/** The name a rotated file had before rotation (`app.log` for `app.log.1`), or undefined if none fits. */
export function rotatedFrom(name: string): string | undefined {
  for (const suffix of ROTATION_SUFFIXES) {
    const match = suffix.exec(name);
    if (match !== null && match.index > 0) return name.slice(0, match.index);
  }
  return undefined;
}

/**
 * Scans a handed-over sibling is remembered without being listed. A listing during a rotation cascade
 * (`.1` to `.2`, `.2` to `.3`...) misses some entries; forgetting them would hand them over again and the
 * file server would open a file it had finished and let go.
 */
const SIBLING_MEMORY_SCANS = 10;

/**
 * Which rotated siblings (`app.log.1` next to a matching `app.log`) discovery hands over. An unchanged
 * sibling is handed over once: the next scan leaves it out, so the file server reads it to its end and
 * closes it, as for any file renamed away, instead of holding every backup open for as long as it exists.
 */
export class RotatedSiblings {
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  /** Handed over, by `dev:ino`, with the size and times they had and the scan that last listed them. */
  readonly #known = new Map<string, { state: string; scan: number }>();

  /**
   * `maxAgeMs`: a sibling not modified for this long is left alone: its checkpoint entry, if it was ever
   * read, has been forgotten by now (`--checkpoint-grace`), so reading it would ship it a second time.
   */
  constructor(maxAgeMs: number, now: () => number) {
    this.#maxAgeMs = maxAgeMs;
    this.#now = now;
  }

  /** True when the sibling `stats` describes is to be handed over at scan number `scan`. */
  offer(stats: Stats, scan: number): boolean {
    if (!stats.isFile()) return false;
    if (this.#now() - stats.mtimeMs > this.#maxAgeMs) return false;
    const key = `${stats.dev}:${stats.ino}`;
    // No ctime: renaming `.1` to `.2` changes it, and a file already read needs no second look. An inode
    // reused by a new file has another birth time, mtime or size.
    const state = `${stats.size}:${stats.mtimeMs}:${stats.birthtimeMs}`;
    const known = this.#known.get(key);
    this.#known.set(key, { state, scan });
    return known?.state !== state;
  }

  /**
   * The file server opens what it is handed by path; a rotation cascade (`.1` to `.2`, `.2` to `.3`...)
   * can move another file under that path first, so the one listed was never opened. `now` is what is at
   * the path after the scan: a sibling no longer there is handed over again, under its new name.
   */
  confirm(listed: Stats, now: Stats | undefined): void {
    if (now?.ino !== listed.ino || now.dev !== listed.dev) this.#known.delete(`${listed.dev}:${listed.ino}`);
  }

  /** Forgets siblings no scan has listed for a while (called once per scan, before the hand-over). */
  expire(scan: number): void {
    for (const [key, known] of this.#known) {
      if (known.scan < scan - SIBLING_MEMORY_SCANS) this.#known.delete(key);
    }
  }
}

export interface RotationOptions {
  readonly checkpointer: Checkpointer;
  readonly events: SourceEvents;
  /** A renamed or deleted file is let go once read to its end and quiet for this long. */
  readonly rotateWaitMs: number;
  readonly now: () => number;
}

/**
 * The open files' side of rotation: an open file that discovery finds under another name was renamed; one
 * it no longer finds was rotated away or deleted, and is read to its end, then let go once quiet.
 */
export class Rotation {
  readonly #options: RotationOptions;
  /** Open files no longer reachable under a watched path, with when that was noticed. */
  readonly #rotatedAt = new Map<FileTailer, number>();

  constructor(options: RotationOptions) {
    this.#options = options;
  }

  /** After a scan: `path` is where discovery found the open file `tailer` (undefined: nowhere). */
  observe(tailer: FileTailer, path: string | undefined): void {
    if (path !== undefined) {
      if (path !== tailer.path) {
        this.#options.events.renamed(tailer.path, path);
        tailer.renamed(path);
        if (tailer.identity !== undefined) this.#options.checkpointer.renamed(tailer.identity.key, path);
      }
      this.#rotatedAt.delete(tailer);
    } else if (!this.#rotatedAt.has(tailer)) {
      this.rotatedAway(tailer);
      this.#options.events.rotatedAway(tailer.path);
    }
  }

  /** Marks `tailer` as rotated away from now on: it is read to its end, then let go. */
  rotatedAway(tailer: FileTailer): void {
    this.#rotatedAt.set(tailer, this.#options.now());
  }

  isRotated(tailer: FileTailer): boolean {
    return this.#rotatedAt.has(tailer);
  }

  /** The release policy: a rotated file read to its end is let go once quiet for `rotateWaitMs`. */
  dueForRelease(tailer: FileTailer): boolean {
    const rotatedAt = this.#rotatedAt.get(tailer);
    if (rotatedAt === undefined) return false;
    const quietSince = Math.max(rotatedAt, tailer.lastDataAt);
    return this.#options.now() - quietSince >= this.#options.rotateWaitMs;
  }

  /** The file was let go. */
  released(tailer: FileTailer): void {
    this.#rotatedAt.delete(tailer);
  }

  /**
   * After a restart, a file renamed away while we were down (rename + create rotation) is no longer
   * matched by the globs; look for its inode next to its old path and read it from its checkpoint to its
   * end. `isOpen` tells files already open; `open` opens one (undefined if it cannot); each file opened
   * is marked rotated away.
   */
  async recover(
    isOpen: (dev: number, ino: number) => boolean,
    open: (path: string) => Promise<FileTailer | undefined>,
  ): Promise<void> {
    const checkpointer = this.#options.checkpointer;
    const wanted = new Map<string, { key: string; base: string; path: string }>();
    for (const [key, entry] of checkpointer.known()) {
      if (!isOpen(entry.dev, entry.ino)) {
        wanted.set(inodeKey(entry.dev, entry.ino), { key, base: entry.base, path: entry.path });
      }
    }
    if (wanted.size === 0) return;
    const found = await findByInode(wanted);
    for (const [inode, want] of wanted) {
      const here = found.get(inode);
      // Same inode and first line; whether it still holds what was checkpointed, the tailer checks.
      if (here === undefined || !(await sameBase(here.path, here.stats, want.base))) {
        this.#goneWhileStopped(want.key, want.path);
        continue;
      }
      const { path, stats } = here;
      const offset = checkpointer.resumeOffset(want.key);
      if (offset >= stats.size) continue;
      const tailer = await open(path);
      if (tailer === undefined) continue;
      this.rotatedAway(tailer);
      this.#options.events.rotatedFileFound(path, want.path, offset);
    }
  }

  /**
   * Checkpointed content found nowhere after a restart: deleted (or its inode reused) while the sidecar
   * was down. What it held past its checkpoint when last seen is lost, and said so once.
   */
  #goneWhileStopped(key: string, path: string): void {
    const checkpointer = this.#options.checkpointer;
    const bytes = checkpointer.unsettledBytes(key);
    if (bytes === 0) return;
    this.#options.events.goneWhileStopped(path, bytes);
    checkpointer.goneForGood(key);
  }
}

/** True when the file at `path` still has the identity base `base` (same inode, same first line). */
async function sameBase(path: string, stats: Stats, base: string): Promise<boolean> {
  let fd: number | undefined;
  try {
    fd = await openFile(path);
    return (await readIdentity(fd, stats.dev, stats.ino, false))?.base === base;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) void closeFile(fd);
  }
}
