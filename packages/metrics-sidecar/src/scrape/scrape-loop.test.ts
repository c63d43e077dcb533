import { describe, expect, it } from 'vitest';
import { ScrapeLoop } from './scrape-loop.js';

describe('ScrapeLoop', () => {
  it('scrapes at start, then on the interval grid, never overlapping, skipping ticks a slow scrape overran', async () => {
    let now = 0;
    const starts: number[] = [];
    const waits: number[] = [];
    let active = 0;
    let maxActive = 0;
    const durations = [10, 250, 10, 10];
    let loop: ScrapeLoop | undefined;
    const done = new Promise<void>((resolve) => {
      loop = new ScrapeLoop({
        intervalMs: 100,
        now: () => now,
        sleep: async (ms) => {
          waits.push(ms);
          now += ms;
        },
        scrapeOnce: async () => {
          active++;
          maxActive = Math.max(maxActive, active);
          starts.push(now);
          await Promise.resolve();
          now += durations[starts.length - 1] ?? 10;
          active--;
          if (starts.length === durations.length) resolve();
        },
      });
      loop.start();
    });
    await done;
    await loop!.stop();
    expect(starts).toEqual([0, 100, 400, 500]);
    expect(waits.slice(0, 3)).toEqual([90, 50, 90]);
    expect(maxActive).toBe(1);
  });

  it('stop aborts a scrape in flight and resolves when the loop has returned', async () => {
    let aborted = false;
    const loop = new ScrapeLoop({
      intervalMs: 1_000,
      scrapeOnce: (signal) =>
        new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          });
        }),
    });
    loop.start();
    await loop.stop();
    expect(aborted).toBe(true);
  });
});
