import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PollTimer } from './poll-timer.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A timer whose runs are recorded (as fake-clock times) and whose activity the test moves. */
function timer(baseMs: number, maxMs: number) {
  const runs: number[] = [];
  const quiet: number[] = [];
  const state = { activity: 0 };
  const poll = new PollTimer({
    baseMs,
    maxMs,
    activity: () => state.activity,
    run: () => runs.push(Date.now()),
    onQuiet: () => quiet.push(Date.now()),
  });
  return { poll, runs, quiet, state, start: Date.now() };
}

describe('PollTimer', () => {
  it('doubles the wait while nothing changes, up to the maximum', () => {
    const t = timer(250, 2000);
    t.poll.start();
    vi.advanceTimersByTime(250 + 500 + 1000 + 2000 + 2000 + 2000);
    expect(t.runs.map((at) => at - t.start)).toEqual([250, 750, 1750, 3750, 5750, 7750]);
    expect(t.poll.waitMs).toBe(2000);
    // The watcher is armed from the first run after which the wait is longer than the base.
    expect(t.quiet[0]! - t.start).toBe(250);
    t.poll.stop();
  });

  it('goes back to the base interval at the first run that sees a change', () => {
    const t = timer(250, 2000);
    t.poll.start();
    vi.advanceTimersByTime(3750); // runs at 250, 750, 1750, 3750: now waiting 2000
    t.state.activity++;
    vi.advanceTimersByTime(2000); // the run at 5750 sees the change
    expect(t.poll.waitMs).toBe(250);
    vi.advanceTimersByTime(250);
    expect(t.runs.at(-1)! - t.start).toBe(6000);
    t.poll.stop();
  });

  it('keeps polling at the maximum when no event ever comes: a missed event costs latency only', () => {
    const t = timer(100, 400);
    t.poll.start();
    vi.advanceTimersByTime(60_000);
    const gaps = t.runs.slice(1).map((at, i) => at - t.runs[i]!);
    expect(gaps.slice(0, 2)).toEqual([200, 400]);
    expect(new Set(gaps.slice(2))).toEqual(new Set([400]));
    expect(t.runs.length).toBeGreaterThan(140);
    t.poll.stop();
  });

  it('wake runs at once and returns to the base interval', () => {
    const t = timer(250, 2000);
    t.poll.start();
    vi.advanceTimersByTime(3750);
    const before = t.runs.length;
    t.state.activity++; // what a watch event does
    t.poll.wake();
    expect(t.runs.length).toBe(before + 1);
    expect(t.poll.waitMs).toBe(250);
    vi.advanceTimersByTime(250);
    expect(t.runs.length).toBe(before + 2);
    t.poll.stop();
  });

  it('never backs off when the maximum is not above the base interval', () => {
    const t = timer(250, 250);
    t.poll.start();
    vi.advanceTimersByTime(2500);
    expect(t.runs).toHaveLength(10);
    expect(t.quiet).toHaveLength(0);
    t.poll.stop();
  });

  it('stops running after stop, and wake does nothing then', () => {
    const t = timer(250, 2000);
    t.poll.start();
    vi.advanceTimersByTime(250);
    t.poll.stop();
    t.poll.wake();
    vi.advanceTimersByTime(10_000);
    expect(t.runs).toHaveLength(1);
  });
});
