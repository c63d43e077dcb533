import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AckTracker } from './ack-tracker.js';
import { CheckpointStore } from './checkpoint-store.js';

const file = { key: 'k', base: 'k', path: '/logs/a.log', dev: 1, ino: 2 };

function setup(sinks = ['a', 'b']) {
  const store = new CheckpointStore(mkdtempSync(join(tmpdir(), 'ack-')));
  const delivered: [string, number][] = [];
  const tracker = new AckTracker(
    store,
    sinks,
    (sink, n) => delivered.push([sink, n]),
    () => 1,
  );
  tracker.track(file);
  return { store, tracker, delivered };
}

describe('AckTracker', () => {
  it('moves each sink checkpoint with its acks and counts the records they cover', () => {
    const { store, tracker, delivered } = setup();
    for (const end of [10, 20, 30]) tracker.accepted('k', end);
    tracker.onAck({ sink: 'a', fileKey: 'k', endOffset: 20 });
    expect(store.offset('k', 'a')).toBe(20);
    expect(store.offset('k', 'b')).toBe(0);
    expect(delivered).toEqual([['a', 2]]);
    expect(tracker.settledOffset('k')).toBe(0);
    expect(tracker.unsettledRecords('k')).toBe(3);
    tracker.onAck({ sink: 'b', fileKey: 'k', endOffset: 30 });
    tracker.onAck({ sink: 'a', fileKey: 'k', endOffset: 30 });
    expect(tracker.settledOffset('k')).toBe(30);
    expect(tracker.unsettledRecords('k')).toBe(0);
    expect(tracker.outstanding()).toEqual([]);
  });

  it('lists what each sink still owes', () => {
    const { tracker } = setup();
    tracker.accepted('k', 10);
    tracker.accepted('k', 20);
    tracker.onAck({ sink: 'a', fileKey: 'k', endOffset: 10 });
    expect(tracker.outstanding()).toEqual([
      { key: 'k', path: '/logs/a.log', sink: 'a', records: 1, settledOffset: 10 },
      { key: 'k', path: '/logs/a.log', sink: 'b', records: 2, settledOffset: 0 },
    ]);
  });

  it('does not count records below a sink checkpoint as owed (restart with sinks apart)', () => {
    const { store, tracker } = setup();
    store.advance('k', 'b', 20, file, 1);
    tracker.track(file);
    tracker.accepted('k', 10);
    tracker.accepted('k', 20);
    tracker.accepted('k', 30);
    expect(tracker.outstanding().find((o) => o.sink === 'b')?.records).toBe(1);
  });

  it('stays small over many records', () => {
    const { tracker } = setup(['a']);
    for (let i = 1; i <= 100_000; i++) {
      tracker.accepted('k', i);
      if (i % 100 === 0) tracker.onAck({ sink: 'a', fileKey: 'k', endOffset: i });
    }
    expect(tracker.unsettledRecords('k')).toBe(0);
  });
});
