import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@agent-sidecars/shared';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { SourceEvents } from '../events.js';
import { SourceMetrics } from '../source-metrics.js';
import { CheckpointStore } from './checkpoint-store.js';
import { Checkpointer } from './checkpointer.js';

const GRACE_MS = 60_000;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const fileA = { key: 'a', base: 'a', path: '/logs/a.log', dev: 1, ino: 10 };
const fileB = { key: 'b', base: 'b', path: '/logs/b.log', dev: 1, ino: 11 };

function setup(sinks = ['loki', 'stdout']) {
  const dir = mkdtempSync(join(tmpdir(), 'checkpointer-'));
  dirs.push(dir);
  const clock = { now: 1_000_000 };
  const registry = new Registry();
  const lines: { level: string; msg: string }[] = [];
  const logger = createLogger({ name: 'test', level: 'silent' });
  for (const level of ['info', 'warn', 'error'] as const) {
    logger[level] = ((_fields: unknown, msg: string) => {
      lines.push({ level, msg });
    }) as unknown as typeof logger.info;
  }
  const metrics = new SourceMetrics(registry, () => []);
  const make = () => {
    const store = new CheckpointStore(dir);
    store.load();
    return new Checkpointer({
      store,
      sinkNames: sinks,
      events: new SourceEvents(logger, metrics),
      graceMs: GRACE_MS,
      now: () => clock.now,
    });
  };
  const counter = async (name: string) => {
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
    return metric?.values.reduce((sum, v) => sum + Number(v.value), 0) ?? 0;
  };
  return { dir, clock, lines, make, counter };
}

describe('Checkpointer', () => {
  it('resumes a file after a restart at the lowest offset its sinks have checkpointed', () => {
    const { make, lines } = setup();
    const before = make();
    expect(before.identified(fileA)).toEqual(
      new Map([
        ['loki', 0],
        ['stdout', 0],
      ]),
    );
    for (const end of [10, 20, 30]) before.accepted('a', end);
    before.onAck({ sink: 'loki', fileKey: 'a', endOffset: 30 });
    before.onAck({ sink: 'stdout', fileKey: 'a', endOffset: 20 });
    expect(before.write(undefined)).toBe(true);

    const after = make();
    expect(after.identified(fileA)).toEqual(
      new Map([
        ['loki', 30],
        ['stdout', 20],
      ]),
    );
    expect(after.resumeOffset('a')).toBe(20);
    expect(lines).toContainEqual({ level: 'info', msg: 'Resuming file from its checkpoint.' });
  });

  it('keeps the size a file had when last seen, so a restart can say what a deleted file took with it', () => {
    const { make } = setup(['stdout']);
    const before = make();
    before.identified(fileA);
    for (const end of [10, 20]) before.accepted('a', end);
    before.onAck({ sink: 'stdout', fileKey: 'a', endOffset: 10 });
    before.seen('a', fileA.path, 50);
    expect(before.write(undefined)).toBe(true);

    const after = make();
    expect(after.unsettledBytes('a')).toBe(40);
    // Reported once: what is left to say is nothing, after this start and after the next.
    after.goneForGood('a');
    expect(after.unsettledBytes('a')).toBe(0);
    after.write(undefined);
    expect(make().unsettledBytes('a')).toBe(0);
  });

  it('does not count again a loss reported while running', () => {
    const { make } = setup(['stdout']);
    const checkpointer = make();
    checkpointer.identified(fileA);
    checkpointer.accepted('a', 10);
    checkpointer.onAck({ sink: 'stdout', fileKey: 'a', endOffset: 10 });
    checkpointer.seen('a', fileA.path, 30);
    checkpointer.identified(fileB);
    checkpointer.accepted('b', 5);
    checkpointer.onAck({ sink: 'stdout', fileKey: 'b', endOffset: 5 });
    checkpointer.seen('b', fileB.path, 9);
    checkpointer.lossReported(`${fileA.dev}:${fileA.ino}`);
    expect(checkpointer.unsettledBytes('a')).toBe(0);
    expect(checkpointer.unsettledBytes('b')).toBe(4);
  });

  it('counts records delivered per sink from the acks, and writes only when something changed', async () => {
    const { make, counter } = setup(['stdout']);
    const checkpointer = make();
    checkpointer.identified(fileA);
    for (const end of [5, 9]) checkpointer.accepted('a', end);
    checkpointer.onAck({ sink: 'stdout', fileKey: 'a', endOffset: 9 });
    expect(await counter('log_sidecar_records_delivered_total')).toBe(2);
    expect(checkpointer.settledOffset('a')).toBe(9);
    checkpointer.write(undefined);
    checkpointer.write(undefined);
    expect(await counter('log_sidecar_checkpoint_writes_total')).toBe(1);
  });

  it('reports a failed write, counts it, and writes again once it can', async () => {
    const { dir } = setup(['stdout']);
    // A regular file where the store's directory should be: the write fails, for root too.
    const blocked = join(dir, 'file-not-dir');
    writeFileSync(blocked, '');
    const store = new CheckpointStore(join(blocked, 'sub'));
    const metrics = new SourceMetrics(new Registry(), () => []);
    const checkpointer = new Checkpointer({
      store,
      sinkNames: ['stdout'],
      events: new SourceEvents(createLogger({ name: 't', level: 'silent' }), metrics),
      graceMs: GRACE_MS,
      now: Date.now,
    });
    checkpointer.identified(fileA);
    checkpointer.accepted('a', 4);
    checkpointer.onAck({ sink: 'stdout', fileKey: 'a', endOffset: 4 });
    expect(checkpointer.write(undefined)).toBe(false);
    expect((await metrics.checkpointWriteFailures.get()).values[0]?.value).toBe(1);
    expect((await metrics.errors.get()).values).toEqual([
      expect.objectContaining({ labels: { kind: 'checkpoint' }, value: 1 }),
    ]);
    // The change is kept and written once the directory can be made.
    rmSync(blocked);
    expect(checkpointer.write(undefined)).toBe(true);
    expect(store.dirty).toBe(false);
    const reread = new CheckpointStore(join(blocked, 'sub'));
    reread.load();
    expect(reread.offset('a', 'stdout')).toBe(4);
  });

  it('forgets files gone for longer than the grace period, never one still owed records', () => {
    const { make, clock } = setup(['stdout']);
    const checkpointer = make();
    checkpointer.identified(fileA);
    checkpointer.identified(fileB);
    checkpointer.accepted('a', 10);
    checkpointer.onAck({ sink: 'stdout', fileKey: 'a', endOffset: 10 });
    checkpointer.accepted('b', 10);
    checkpointer.accepted('b', 20);
    checkpointer.onAck({ sink: 'stdout', fileKey: 'b', endOffset: 10 });
    checkpointer.write([]);
    clock.now += GRACE_MS + 1;
    // Before the first scan nothing is known to be gone: no clean-up.
    checkpointer.write(undefined);
    expect([...checkpointer.known()].map(([key]) => key).sort()).toEqual(['a', 'b']);
    // b still owes a record (accepted, not acked): kept although not open; a is settled and gone.
    checkpointer.write([]);
    expect([...checkpointer.known()].map(([key]) => key)).toEqual(['b']);
    expect(checkpointer.shortfall([], undefined)).toEqual([
      { path: fileB.path, sink: 'stdout', records: 1, bytes: 0, reason: 'not acknowledged by the sink' },
    ]);
  });

  it('keeps the entry of a file that is still open, however long ago it was seen', () => {
    const { make, clock } = setup(['stdout']);
    const checkpointer = make();
    checkpointer.identified(fileA);
    checkpointer.accepted('a', 10);
    checkpointer.onAck({ sink: 'stdout', fileKey: 'a', endOffset: 10 });
    clock.now += GRACE_MS * 10;
    checkpointer.write(['a']);
    expect(checkpointer.resumeOffset('a')).toBe(10);
  });

  it('reports per file and sink what is owed at the deadline: records, and bytes read or not', () => {
    const { make } = setup();
    const checkpointer = make();
    checkpointer.identified(fileA);
    for (const end of [10, 20, 30]) checkpointer.accepted('a', end);
    checkpointer.onAck({ sink: 'loki', fileKey: 'a', endOffset: 30 });
    checkpointer.onAck({ sink: 'stdout', fileKey: 'a', endOffset: 10 });
    const shortfall = checkpointer.shortfall(
      [
        { key: 'a', path: fileA.path, size: 50, read: 50, problem: undefined },
        // Not identified yet (its first line is unfinished): it owes everything to every sink.
        { key: undefined, path: '/logs/new.log', size: 7, read: 0, problem: undefined },
        // Never opened: it cannot be.
        { key: undefined, path: '/logs/secret.log', size: 9, read: 0, problem: 'cannot open (EACCES)' },
      ],
      {
        complete: false,
        undelivered: [
          // Already in the report from the tracker: not repeated.
          { sink: 'stdout', fileKey: 'a', path: fileA.path, records: 2, bytes: 20 },
          // A file already let go, known only to the delivery.
          { sink: 'loki', fileKey: 'c', path: '/logs/c.log', records: 3, bytes: 33 },
        ],
      },
    );
    expect(shortfall).toEqual([
      { path: fileA.path, sink: 'stdout', records: 2, bytes: 40, reason: 'not acknowledged by the sink' },
      { path: fileA.path, sink: 'loki', records: 0, bytes: 20, reason: 'not acknowledged by the sink' },
      { path: '/logs/new.log', sink: 'loki', records: 0, bytes: 7, reason: 'not read to its end' },
      { path: '/logs/new.log', sink: 'stdout', records: 0, bytes: 7, reason: 'not read to its end' },
      { path: '/logs/secret.log', sink: 'loki', records: 0, bytes: 9, reason: 'cannot open (EACCES)' },
      { path: '/logs/secret.log', sink: 'stdout', records: 0, bytes: 9, reason: 'cannot open (EACCES)' },
      { path: '/logs/c.log', sink: 'loki', records: 3, bytes: 33, reason: 'not acknowledged by the sink' },
    ]);
  });
});
