import { type FSWatcher, watch } from 'node:fs';

/** Directories watched at most: each is one inotify watch, and `fs.inotify.max_user_watches` is shared. */
const MAX_WATCHED_DIRECTORIES = 256;
/** A directory that could not be watched is tried again after this long (it may exist by then). */
const RETRY_FAILED_MS = 60_000;

export interface DirectoryWatchOptions {
  /** The first event since `arm`: something in a watched directory changed. */
  readonly onChange: () => void;
  /** A directory cannot be watched (ENOSPC: out of inotify watches, EACCES, ...): it is polled only. */
  readonly onUnwatchable: (directory: string, code: string) => void;
  readonly now: () => number;
}

/**
 * A wake-up hint, never a source of truth (DESIGN.md §3: watch events are hints, `stat` is the truth):
 * `fs.watch` (inotify) on the listed directories, armed only while the polls have backed off, and let go
 * at the first event. So a file written 10,000 times a second costs no event at all (a permanent watch
 * cost 2.4 % of a core there), while an idle one is read within milliseconds of its next line instead of
 * at the next backed-off poll. Where inotify says nothing (NFS, some overlay setups), the poll still
 * comes, `--max-poll-interval` later at most: a missed event costs latency, never a line.
 */
export class DirectoryWatch {
  readonly #options: DirectoryWatchOptions;
  readonly #watchers = new Map<string, FSWatcher>();
  /** Directories that could not be watched, and when. */
  readonly #failed = new Map<string, number>();
  #events = 0;
  #closed = false;

  constructor(options: DirectoryWatchOptions) {
    this.#options = options;
  }

  /** Events seen so far (each also disarmed the watch). */
  get events(): number {
    return this.#events;
  }

  /** Directories watched now. */
  get watching(): number {
    return this.#watchers.size;
  }

  /** Watches `directories` until the first event (those watched already stay as they are). */
  arm(directories: Iterable<string>): void {
    if (this.#closed) return;
    const now = this.#options.now();
    for (const directory of directories) {
      if (this.#watchers.size >= MAX_WATCHED_DIRECTORIES) return;
      if (this.#watchers.has(directory)) continue;
      const failedAt = this.#failed.get(directory);
      if (failedAt !== undefined && now - failedAt < RETRY_FAILED_MS) continue;
      let watcher: FSWatcher;
      try {
        // Not persistent: a hint must never keep the process alive.
        watcher = watch(directory, { persistent: false }, this.#changed);
      } catch (error) {
        this.#unwatchable(directory, error);
        continue;
      }
      watcher.on('error', (error) => {
        watcher.close();
        if (this.#watchers.get(directory) === watcher) this.#watchers.delete(directory);
        this.#unwatchable(directory, error);
      });
      this.#failed.delete(directory);
      this.#watchers.set(directory, watcher);
    }
  }

  /** Stops watching (until the next `arm`). */
  disarm(): void {
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
  }

  close(): void {
    this.#closed = true;
    this.disarm();
  }

  readonly #changed = (): void => {
    // Armed watchers may each have queued an event: only the first one wakes the polls.
    if (this.#watchers.size === 0) return;
    this.#events++;
    this.disarm();
    this.#options.onChange();
  };

  #unwatchable(directory: string, error: unknown): void {
    this.#failed.set(directory, this.#options.now());
    this.#options.onUnwatchable(directory, (error as NodeJS.ErrnoException).code ?? 'unknown');
  }
}
