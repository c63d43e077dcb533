import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LogRecord } from '../record.js';
import { Batcher, type BatcherOptions } from './batcher.js';
import type { HeldRecord } from './held-record.js';

function held(n: number, bytes = 10): HeldRecord {
  const record = { fileKey: 'a', endOffset: (n + 1) * bytes, bytes } as LogRecord;
  return { record, pending: 1, settled: 0 };
}

function batcher(overrides: Partial<BatcherOptions> = {}) {
  const batches: number[][] = [];
  const b = new Batcher({
    maxRecords: 10,
    maxBytes: 1_000_000,
    liveRecords: 3,
    timeoutMs: 1000,
    onBatch: (items) => batches.push(items.map((h) => h.record.endOffset / h.record.bytes - 1)),
    ...overrides,
  });
  let next = 0;
  const add = (count: number, bytes?: number) => {
    for (let i = 0; i < count; i++) b.add(held(next++, bytes));
  };
  return { b, batches, add };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Batcher', () => {
  it('seals at the live size while the source keeps up', () => {
    const { batches, add } = batcher();
    add(7);
    expect(batches).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
  });

  it('fills batches to the record limit while the source is behind', () => {
    const { b, batches, add } = batcher();
    b.sourceBehind(true);
    add(23);
    expect(batches.map((x) => x.length)).toEqual([10, 10]);
    expect(b.open).toHaveLength(3);
  });

  it('seals at the byte limit first, behind or not', () => {
    const { b, batches, add } = batcher({ maxBytes: 45 });
    b.sourceBehind(true);
    add(9, 10);
    // 5 records are 50 bytes >= 45: the byte bound holds a grown batch to it.
    expect(batches.map((x) => x.length)).toEqual([5]);
    b.sourceBehind(false);
    expect(batches.map((x) => x.length)).toEqual([5, 4]);
    add(1, 50);
    expect(batches.map((x) => x.length)).toEqual([5, 4, 1]);
  });

  it('seals a batch past the live size as soon as the source has caught up', () => {
    const { b, batches, add } = batcher();
    b.sourceBehind(true);
    add(5);
    expect(batches).toEqual([]);
    b.sourceBehind(false);
    expect(batches).toEqual([[0, 1, 2, 3, 4]]);
    expect(b.open).toHaveLength(0);
  });

  it('leaves a batch below the live size to its timeout when the source catches up', () => {
    vi.useFakeTimers();
    const { b, batches, add } = batcher();
    b.sourceBehind(true);
    add(2);
    b.sourceBehind(false);
    expect(batches).toEqual([]);
    vi.advanceTimersByTime(999);
    expect(batches).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(batches).toEqual([[0, 1]]);
  });

  it('seals a growing batch at its timeout while the source stays behind', () => {
    vi.useFakeTimers();
    const { b, batches, add } = batcher();
    b.sourceBehind(true);
    add(6);
    vi.advanceTimersByTime(1000);
    expect(batches).toEqual([[0, 1, 2, 3, 4, 5]]);
  });

  it('never lets the live size exceed the record limit', () => {
    const { batches, add } = batcher({ maxRecords: 2, liveRecords: 1000 });
    add(5);
    expect(batches.map((x) => x.length)).toEqual([2, 2]);
  });

  it('seals what is open at the end of the turn while draining, behind or not', async () => {
    const { b, batches, add } = batcher();
    b.sourceBehind(true);
    b.startDrain();
    add(4);
    expect(batches).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[0, 1, 2, 3]]);
  });
});
