import { afterEach, describe, expect, it, vi } from 'vitest';
import { BufferPool } from './buffer-pool.js';

describe('BufferPool', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands out a buffer of at least the size asked, and the same memory again once it is given back', () => {
    const pool = new BufferPool(2, 1 << 20);
    const first = pool.take(10_000);
    expect(first.length).toBeGreaterThanOrEqual(10_000);
    pool.give(first.subarray(0, 123));
    const again = pool.take(5000);
    expect(again.buffer).toBe(first.buffer);
    // Not given back: the next one is new memory.
    expect(pool.take(5000).buffer).not.toBe(first.buffer);
  });

  it('takes back only what it handed out, and each once', () => {
    const pool = new BufferPool(4, 1 << 20);
    pool.give(Buffer.allocUnsafeSlow(8192));
    pool.give(Buffer.from('pooled? no'));
    expect(pool.freeBytes).toBe(0);
    const taken = pool.take(4096);
    pool.give(taken);
    pool.give(taken);
    expect(pool.freeBytes).toBe(taken.length);
    // Given twice, handed out once: two takes must not share memory.
    expect(pool.take(4096).buffer).not.toBe(pool.take(4096).buffer);
  });

  it('keeps at most `keep` free buffers, the larger ones, and none over `maxBytes`', () => {
    const pool = new BufferPool(2, 100_000);
    const [a, b, c, huge] = [pool.take(1000), pool.take(3000), pool.take(2000), pool.take(200_000)];
    for (const buffer of [a, b, c, huge]) pool.give(buffer);
    expect(pool.freeBytes).toBe(b.length + c.length);
    // The smallest that fits is handed out first.
    expect(pool.take(1500).buffer).toBe(c.buffer);
  });

  it('drops its free buffers after idleMs without use', () => {
    vi.useFakeTimers();
    const pool = new BufferPool(2, 1 << 20, 1000);
    pool.give(pool.take(4096));
    vi.advanceTimersByTime(999);
    expect(pool.freeBytes).toBeGreaterThan(0);
    pool.give(pool.take(4096));
    vi.advanceTimersByTime(999);
    expect(pool.freeBytes).toBeGreaterThan(0);
    vi.advanceTimersByTime(2);
    expect(pool.freeBytes).toBe(0);
  });
});
