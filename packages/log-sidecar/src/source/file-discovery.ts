import type { Dirent, Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import picomatch from 'picomatch';
import type { SourceEvents } from '../events.js';
import { PollTimer } from './poll-timer.js';
import { RotatedSiblings, rotatedFrom } from './rotation.js';

/** Deepest directory level walked under a `**` pattern's base, so a deep or looping tree stays bounded. */
const MAX_RECURSIVE_DEPTH = 16;

export interface DiscoveryOptions {
  /** Globs (absolute or relative to `cwd`) of the files to read. */
  readonly patterns: readonly string[];
  /** Globs of files to leave out; a pattern without `/` is matched against the file name. */
  readonly excludes: readonly string[];
  /** How often the globs are listed again while files change. */
  readonly intervalMs: number;
  /**
   * While nothing changes (see `activity`), the wait between scans doubles up to this; `wake()` brings it
   * back to `intervalMs`. Default: `intervalMs` (no back-off).
   */
  readonly maxIntervalMs?: number;
  /** A count that moves when anything changed, here or elsewhere in the source (default: this' own changes). */
  readonly activity?: () => number;
  /** Called when scans back off (a watcher may be armed on `directories`). */
  readonly onQuiet?: () => void;
  /** Where problems are reported (each once per path until it goes away). */
  readonly events: SourceEvents;
  /** Relative patterns are resolved against this directory. */
  readonly cwd: string;
  /** Receives every regular file matching now, and rotated siblings new or changed, by path, after each scan. */
  readonly onScan: (found: ReadonlyMap<string, Stats>, complete: boolean) => Promise<void> | void;
  /**
   * Also take rotated siblings of matching names (`app.log.1`, `app.log.2026-11-21`): a file created and
   * renamed between two scans is found only that way.
   */
  readonly followRotated: boolean;
  /**
   * A rotated sibling not modified for this long is left alone: its checkpoint entry, if it was ever read,
   * has been forgotten by now (`--checkpoint-grace`), so reading it would ship it a second time.
   */
  readonly rotatedMaxAgeMs: number;
  readonly now?: () => number;
}

/** What one scan collects. */
interface Listing {
  /** Files to hand to `onScan`, by path. */
  readonly found: Map<string, Stats>;
  /** Paths of the siblings in `found`. */
  readonly handedOver: string[];
  /** False when a directory could not be listed for want of file descriptors: absence proves nothing. */
  complete: boolean;
  /** The directories listed. */
  readonly directories: string[];
}

interface Root {
  /** Directory the glob is rooted in (the part without magic). */
  readonly base: string;
  /** Directory levels below `base` that can match. */
  readonly depth: number;
  readonly match: (path: string) => boolean;
  present: boolean | undefined;
}

/**
 * Finds the files the globs match: every directory under a glob's base is listed again on each scan
 * (globs are re-evaluated, so files and directories created later are found). A base directory that does
 * not exist yet is waited for, with one warning. With `followRotated`, also the rotated siblings of
 * matching names, which the file server then reads like files renamed away (`rotation.ts` has the rules).
 *
 * Scans are polls, by measurement: inotify reports every write to a watched directory, so at 10,000
 * lines/s a permanent chokidar watch alone used 16.8 % of a core and a bare fs.watch 2.4 %, against a
 * budget of 5 % for the whole sidecar. While nothing changes the scans back off (`maxIntervalMs`), and a
 * `DirectoryWatch` armed only then calls `wake()` at the first event; Vector's file source polls the same way.
 */
export class FileDiscovery {
  readonly #options: DiscoveryOptions;
  readonly #roots: Root[];
  readonly #isExcluded: (path: string) => boolean;
  readonly #siblings: RotatedSiblings;
  #scans = 0;
  readonly #timer: PollTimer;
  /** Scans whose listing differed from the one before (files, sizes, times, directories). */
  #changes = 0;
  /** What the previous scan found, to tell whether this one changed anything. */
  #previous = new Map<string, Stats>();
  #directories: readonly string[] = [];
  #scanning: Promise<void> | undefined;
  #rescan = false;
  #stopped = false;
  /** Set as soon as stop() is called: a start() whose first scan is still running arms no timer then. */
  #stopRequested = false;
  #started = false;

  constructor(options: DiscoveryOptions) {
    this.#options = options;
    const cwd = options.cwd;
    this.#roots = options.patterns.map((pattern) => rootOf(resolve(cwd, pattern)));
    const excludes = options.excludes.map((glob) =>
      picomatch(glob.includes('/') ? resolve(cwd, glob) : glob, { basename: true, dot: true }),
    );
    this.#isExcluded = (path) => excludes.some((isMatch) => isMatch(path));
    this.#siblings = new RotatedSiblings(options.rotatedMaxAgeMs, options.now ?? Date.now);
    this.#timer = new PollTimer({
      baseMs: options.intervalMs,
      maxMs: options.maxIntervalMs ?? options.intervalMs,
      activity: options.activity ?? (() => this.#changes),
      run: () => void this.scan(),
      onQuiet: options.onQuiet,
    });
  }

  /** Scans whose listing changed since the one before. */
  get changes(): number {
    return this.#changes;
  }

  /** The directories the last scan listed (where a watcher would see what the next scan will). */
  get directories(): readonly string[] {
    return this.#directories;
  }

  /** Scans now, and at `intervalMs` again: something changed (a watch event). */
  wake(): void {
    this.#timer.wake();
  }

  /** True once started and until stopped: readiness depends on it, never on files existing. */
  get running(): boolean {
    return this.#started && !this.#stopped;
  }

  /** Runs the first scan, then scans every interval (backing off while nothing changes). */
  async start(): Promise<void> {
    this.#started = true;
    await this.scan();
    if (!this.#stopRequested) this.#timer.start();
  }

  /**
   * Stops scanning after one last listing: a native sidecar gets SIGTERM only after the agent has exited,
   * so files the agent created since the previous scan are final and must still be read to their end.
   */
  async stop(): Promise<void> {
    this.#stopRequested = true;
    this.#timer.stop();
    if (this.#started && !this.#stopped) await this.scan();
    this.#stopped = true;
    await this.#scanning;
  }

  /** Lists every root now; concurrent calls share one scan and ask for another after it. */
  scan(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#scanning !== undefined) {
      this.#rescan = true;
      return this.#scanning;
    }
    this.#scanning = (async () => {
      do {
        this.#rescan = false;
        this.#scans++;
        const listing: Listing = { found: new Map(), handedOver: [], complete: true, directories: [] };
        for (const root of this.#roots) await this.#scanRoot(root, listing);
        if (this.#stopped) break;
        this.#compare(listing);
        this.#siblings.expire(this.#scans);
        await this.#options.onScan(listing.found, listing.complete);
        await this.#confirmHandedOver(listing);
      } while (this.#rescan && !this.#stopped);
    })().finally(() => {
      this.#scanning = undefined;
    });
    return this.#scanning;
  }

  /** Counts a change when this listing differs from the previous one in any file or directory. */
  #compare(listing: Listing): void {
    const before = this.#previous;
    const found = listing.found;
    let changed = found.size !== before.size || !sameList(listing.directories, this.#directories);
    if (!changed) {
      for (const [path, now] of found) {
        const was = before.get(path);
        if (
          was === undefined ||
          was.ino !== now.ino ||
          was.dev !== now.dev ||
          was.size !== now.size ||
          was.mtimeMs !== now.mtimeMs ||
          was.ctimeMs !== now.ctimeMs
        ) {
          changed = true;
          break;
        }
      }
    }
    if (changed) this.#changes++;
    this.#previous = found;
    this.#directories = listing.directories;
  }

  async #scanRoot(root: Root, listing: Listing): Promise<void> {
    const listed = await this.#walk(root, root.base, root.depth, listing);
    if (listed === root.present) return;
    root.present = listed;
    if (listed) this.#options.events.directoryListed(root.base);
  }

  /** Lists `dir`, recording matching files; returns false when `dir` itself cannot be listed. */
  async #walk(root: Root, dir: string, depth: number, listing: Listing): Promise<boolean> {
    const found = listing.found;
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
      // Out of file descriptors: the directory is there, it could not be listed now. What it holds must
      // not look deleted or renamed away.
      if (code === 'EMFILE' || code === 'ENFILE') listing.complete = false;
      if (dir === root.base) this.#options.events.directoryUnlistable(dir, code);
      return false;
    }
    listing.directories.push(dir);
    for (const entry of entries) {
      const path = join(dir, entry.name);
      // Directories are descended only when real: a symlinked directory could loop back on itself.
      if (entry.isDirectory()) {
        if (depth > 0) await this.#walk(root, path, depth - 1, listing);
        if (root.match(path) && !this.#isExcluded(path)) await this.#consider(path, found);
      } else if (found.has(path) || this.#isExcluded(path)) {
        // Already found by another glob, or left out.
      } else if (root.match(path)) {
        await this.#consider(path, found);
      } else if (this.#isRotatedSibling(root, dir, entry.name)) {
        await this.#considerSibling(path, listing);
      }
    }
    return true;
  }

  /** True when `name` is a rotated name of a file the glob would take (whether that file exists or not). */
  #isRotatedSibling(root: Root, dir: string, name: string): boolean {
    if (!this.#options.followRotated) return false;
    const from = rotatedFrom(name);
    if (from === undefined) return false;
    const original = join(dir, from);
    return root.match(original) && !this.#isExcluded(original);
  }

  /**
   * Hands over a rotated sibling when it is new or changed since the last scan. Quiet about problems:
   * a rotated file that vanishes or is not a regular file is no concern of the globs.
   */
  async #considerSibling(path: string, listing: Listing): Promise<void> {
    let stats: Stats;
    try {
      stats = await stat(path);
    } catch {
      return;
    }
    if (!this.#siblings.offer(stats, this.#scans)) return;
    listing.found.set(path, stats);
    listing.handedOver.push(path);
  }

  /** Checks each sibling handed over is still at its path (see RotatedSiblings.confirm). */
  async #confirmHandedOver(listing: Listing): Promise<void> {
    for (const path of listing.handedOver) {
      let now: Stats | undefined;
      try {
        now = await stat(path);
      } catch {
        now = undefined;
      }
      this.#siblings.confirm(listing.found.get(path)!, now);
    }
  }

  async #consider(path: string, found: Map<string, Stats>): Promise<void> {
    let stats: Stats;
    try {
      stats = await stat(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
      // ENOENT: deleted between listing and stat, or a dangling symlink: nothing to read, nothing to say.
      if (code === 'ENOENT') return;
      this.#options.events.pathUnstatable(path, code);
      return;
    }
    if (stats.isFile()) {
      this.#options.events.pathIsFile(path);
      found.set(path, stats);
      return;
    }
    const kind = stats.isDirectory() ? 'directory' : 'special file';
    this.#options.events.pathNotAFile(path, kind);
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

function rootOf(pattern: string): Root {
  const scanned = picomatch.scan(pattern);
  const isMatch = picomatch(pattern, { dot: false });
  if (!scanned.isGlob) {
    return { base: dirname(pattern), depth: 0, match: (path) => path === pattern, present: undefined };
  }
  const base = scanned.base === '' ? '.' : scanned.base;
  const depth = scanned.glob.includes('**') ? MAX_RECURSIVE_DEPTH : scanned.glob.split('/').length - 1;
  return { base, depth, match: isMatch, present: undefined };
}
