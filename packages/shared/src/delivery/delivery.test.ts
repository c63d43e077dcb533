import { describe, expect, it } from 'vitest';
import { fullJitterBackoff } from './backoff.js';
import { type AttemptResult, retryUntil } from './retry.js';
import { parseRetryAfter } from './retry-after.js';
import { sleep } from './sleep.js';

describe('fullJitterBackoff', () => {
  const policy = { baseMs: 1000, maxMs: 30_000 };
  it('draws uniformly below base * 2^attempt', () => {
    expect(fullJitterBackoff(0, policy, () => 0.999)).toBe(999);
    expect(fullJitterBackoff(3, policy, () => 0.5)).toBe(4000);
    expect(fullJitterBackoff(2, policy, () => 0)).toBe(0);
  });
  it('never exceeds the maximum, however many attempts', () => {
    expect(fullJitterBackoff(10, policy, () => 0.999_999)).toBeLessThan(30_000);
    expect(fullJitterBackoff(5000, policy, () => 0.5)).toBe(15_000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(['3', '9'], now)).toBe(3000);
  });
  it('reads an HTTP-date relative to now, never negative', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:00:00 GMT', now)).toBe(0);
  });
  it('ignores absent and malformed values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
    expect(parseRetryAfter('2015-10-21', now)).toBeUndefined();
  });
});

/** A fake clock whose sleep advances time instantly, recording each wait. */
function fakeTime(start = 1_000_000) {
  let now = start;
  const waits: number[] = [];
  return {
    now: () => now,
    waits,
    sleep: async (ms: number) => {
      waits.push(ms);
      now += ms;
    },
  };
}

describe('retryUntil', () => {
  const policy = { baseMs: 1000, maxMs: 30_000, random: () => 0.5 };

  it('returns the value of the first attempt that is done', async () => {
    const time = fakeTime();
    const outcomes: AttemptResult<string>[] = [
      { done: false, reason: '503' },
      { done: false, reason: 'reset' },
      { done: true, value: 'ok' },
    ];
    const result = await retryUntil(async () => outcomes.shift()!, { ...policy, ...time });
    expect(result).toEqual({ ok: true, value: 'ok', attempts: 3 });
    expect(time.waits).toEqual([500, 1000]);
  });

  it('waits at least what Retry-After asks', async () => {
    const time = fakeTime();
    let calls = 0;
    await retryUntil(
      async () =>
        calls++ === 0 ? { done: false, reason: '429', retryAfterMs: 7000 } : { done: true, value: 1 },
      {
        ...policy,
        ...time,
      },
    );
    expect(time.waits).toEqual([7000]);
  });

  it('stops at the deadline without waiting past it', async () => {
    const time = fakeTime();
    const deadline = time.now() + 2500;
    const result = await retryUntil(async () => ({ done: false, reason: 'down', retryAfterMs: 2000 }), {
      ...policy,
      ...time,
      deadline,
    });
    expect(result).toEqual({ ok: false, stoppedBy: 'deadline', lastReason: 'down', attempts: 2 });
    expect(time.now()).toBe(deadline);
  });

  it('stops when the signal aborts and after maxAttempts', async () => {
    const controller = new AbortController();
    const aborted = await retryUntil(
      async () => {
        controller.abort();
        return { done: false, reason: 'x' };
      },
      { ...policy, ...fakeTime(), signal: controller.signal },
    );
    expect(aborted).toMatchObject({ ok: false, stoppedBy: 'aborted', attempts: 1 });
    const limited = await retryUntil(async () => ({ done: false, reason: 'y' }), {
      ...policy,
      ...fakeTime(),
      maxAttempts: 3,
    });
    expect(limited).toEqual({ ok: false, stoppedBy: 'attempts', lastReason: 'y', attempts: 3 });
  });

  it('honours Retry-After only up to maxRetryAfterMs', async () => {
    const time = fakeTime();
    let calls = 0;
    await retryUntil(
      async () =>
        calls++ === 0 ? { done: false, reason: '429', retryAfterMs: 3_600_000 } : { done: true, value: 1 },
      { ...policy, ...time, maxRetryAfterMs: 60_000 },
    );
    expect(time.waits).toEqual([60_000]);
  });

  it('reads the backoff policy at every wait, so a changed policy applies from the next wait', async () => {
    const time = fakeTime();
    let draining = false;
    let calls = 0;
    await retryUntil(
      async () => {
        calls++;
        if (calls === 2) draining = true;
        return calls < 3 ? { done: false, reason: 'down' } : { done: true, value: 0 };
      },
      {
        ...time,
        random: () => 0.5,
        get baseMs() {
          return draining ? 50 : 1000;
        },
        get maxMs() {
          return draining ? 500 : 30_000;
        },
      },
    );
    expect(time.waits).toEqual([500, 50]);
  });

  it('reports each retry before waiting', async () => {
    const seen: unknown[] = [];
    let calls = 0;
    await retryUntil(
      async () => (calls++ < 2 ? { done: false, reason: `r${calls}` } : { done: true, value: 0 }),
      {
        ...policy,
        ...fakeTime(),
        onRetry: (info) => seen.push(info),
      },
    );
    expect(seen).toEqual([
      { attempt: 1, waitMs: 500, reason: 'r1' },
      { attempt: 2, waitMs: 1000, reason: 'r2' },
    ]);
  });
});

describe('sleep', () => {
  it('resolves early when the signal aborts', async () => {
    const controller = new AbortController();
    // A 60 s sleep that is not ended by the abort outlives the test's own timeout and fails it.
    const pending = sleep(60_000, controller.signal);
    controller.abort();
    await expect(pending).resolves.toBeUndefined();
  });
});
