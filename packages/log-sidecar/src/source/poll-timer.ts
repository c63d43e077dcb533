export interface PollTimerOptions {
  /** The wait between runs while something changes (`--read-interval`, `--scan-interval`). */
  readonly baseMs: number;
  /** The longest wait while nothing changes (`--max-poll-interval`); at or below `baseMs`: no back-off. */
  readonly maxMs: number;
  /** A count that moves whenever something happened: bytes read, a listing changed, a watch event. */
  readonly activity: () => number;
  readonly run: () => void;
  /** Called at each run after which the wait is longer than `baseMs` (a watcher may then be armed). */
  readonly onQuiet?: () => void;
}

/**
 * Runs a poll at `baseMs` while anything changes and, while nothing does, doubles the wait up to `maxMs`
 * (Vector's file server backs off the same way, to 2,048 ms). `wake()` runs it at once and returns to
 * `baseMs`: a file-system event only ever shortens the wait, the poll itself stays the truth.
 */
export class PollTimer {
  readonly #options: PollTimerOptions;
  #waitMs: number;
  #seen = Number.NaN;
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(options: PollTimerOptions) {
    this.#options = options;
    this.#waitMs = options.baseMs;
  }

  /** The wait before the next run. */
  get waitMs(): number {
    return this.#waitMs;
  }

  /** Schedules the first run `baseMs` from now. */
  start(): void {
    this.#running = true;
    this.#seen = this.#options.activity();
    this.#schedule(this.#options.baseMs);
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Something changed that the poll would only see later: run now, then at `baseMs` again. */
  wake(): void {
    if (!this.#running) return;
    clearTimeout(this.#timer);
    this.#waitMs = this.#options.baseMs;
    this.#fire();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    const { baseMs, maxMs, activity, run, onQuiet } = this.#options;
    const now = activity();
    this.#waitMs = now !== this.#seen ? baseMs : Math.max(baseMs, Math.min(maxMs, this.#waitMs * 2));
    this.#seen = now;
    run();
    if (!this.#running) return;
    if (this.#waitMs > baseMs) onQuiet?.();
    this.#schedule(this.#waitMs);
  };

  #schedule(ms: number): void {
    this.#timer = setTimeout(this.#fire, ms);
  }
}
