import { sleep } from '@agent-sidecars/shared';

export interface ScrapeLoopOptions {
  readonly intervalMs: number;
  /** One scrape; awaited before the next tick is considered, so scrapes never overlap. */
  readonly scrapeOnce: (signal: AbortSignal) => Promise<void>;
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Scrapes at start, then on a fixed grid of ticks (start + k x interval). A scrape that overruns a tick
 * makes the loop skip to the next tick still ahead, as Prometheus' scrape loop does, rather than scrape
 * twice in a row to catch up.
 */
export class ScrapeLoop {
  readonly #options: ScrapeLoopOptions;
  readonly #abort = new AbortController();
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  #running: Promise<void> | undefined;

  constructor(options: ScrapeLoopOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? sleep;
  }

  start(): void {
    if (this.#running) throw new Error('scrape loop already started');
    this.#running = this.#run();
  }

  /** Aborts an in-flight scrape or wait; resolves once the loop has returned. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  async #run(): Promise<void> {
    const { intervalMs, scrapeOnce } = this.#options;
    const signal = this.#abort.signal;
    const start = this.#now();
    let tick = 0;
    while (!signal.aborted) {
      await scrapeOnce(signal);
      if (signal.aborted) return;
      const elapsed = this.#now() - start;
      tick = Math.max(tick + 1, Math.floor(elapsed / intervalMs) + 1);
      try {
        await this.#sleep(start + tick * intervalMs - this.#now(), signal);
      } catch {
        return;
      }
    }
  }
}
