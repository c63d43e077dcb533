import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@agent-sidecars/shared';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CheckpointStore } from './checkpoint/checkpoint-store.js';
import type { Delivery } from './delivery/delivery.js';
import { Pipeline } from './pipeline.js';
import type { LogRecord } from './record.js';
import { RecordBuilder } from './record-builder.js';

const READ_MS = 250;
const MAX_POLL_MS = 2000;

/**
 * A delivery whose buffer the test fills and empties: while `full`, `accept` says stop and
 * `whenWritable` waits for `makeRoom()`.
 */
class FillableDelivery implements Delivery {
  readonly sinkNames = ['stdout'];
  readonly spillsAtDeadline = false;
  readonly messages: string[] = [];
  full = false;
  #waiters: (() => void)[] = [];

  get bufferedBytes(): number {
    return 0;
  }

  get bufferFull(): boolean {
    return this.full;
  }

  accept(record: LogRecord): boolean {
    this.messages.push(String(record.message));
    return !this.full;
  }

  whenWritable(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  makeRoom(): void {
    this.full = false;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  sourceBehind(): void {}
  onAck(): void {}
  startDrain(): void {}
  async drain() {
    return { complete: true, undelivered: [] };
  }
  async finishSpill() {
    return undefined;
  }
  async close(): Promise<void> {}
}

const dirs: string[] = [];
let pipeline: Pipeline | undefined;

beforeEach(() => {
  // The polls' clock only: the files, their reads and the watch run on the real event loop.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
  vi.useRealTimers();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-'));
  dirs.push(dir);
  return dir;
}

/** Waits on the real event loop (never the fake clock: no poll may run meanwhile) until `done()`. */
async function settle(what: string, done: () => boolean): Promise<void> {
  const giveUpAt = performance.now() + 20_000;
  while (!done()) {
    if (performance.now() > giveUpAt) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Advances the fake clock in read-interval steps, letting the reads between them finish. */
async function advance(ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= READ_MS) {
    vi.advanceTimersByTime(Math.min(READ_MS, left));
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  }
}

function lines(from: number, to: number): string {
  let text = '';
  for (let n = from; n < to; n++) text += `line ${n}\n`;
  return text;
}

describe('Pipeline with the polls backed off', () => {
  it('reads on by itself when a full buffer gets room, however long the read poll sleeps', async () => {
    const dir = tempDir();
    const file = join(dir, 'app.log');
    writeFileSync(file, lines(0, 5));
    const delivery = new FillableDelivery();
    const registry = new Registry();
    const store = new CheckpointStore(join(tempDir(), 'ckpt'));
    store.load();
    pipeline = new Pipeline({
      delivery,
      store,
      builder: new RecordBuilder('raw', {}),
      registry,
      logger: createLogger({ name: 'test', level: 'silent' }),
      // One scan, at the start: a scan still in flight (real file-system calls) when the buffer gets room
      // would read the file too, and hide a reader that waits for a poll.
      discovery: {
        patterns: [join(dir, '*.log')],
        excludes: [],
        intervalMs: 3_600_000,
        cwd: dir,
        followRotated: false,
      },
      maxLineBytes: 1024,
      multiline: { kind: 'none' },
      multilineTimeoutMs: 1000,
      readBufferBytes: 64 * 1024,
      readIntervalMs: READ_MS,
      maxPollIntervalMs: MAX_POLL_MS,
      maxOpenFiles: 10,
      rotateWaitMs: 5000,
      checkpointIntervalMs: 1000,
      checkpointGraceMs: 60_000,
      deadlineMarginMs: 200,
    });
    await pipeline.start();
    await settle('the first lines', () => delivery.messages.length === 5);

    // The sink is down and the buffer is full: the next read stops after its first line.
    delivery.full = true;
    appendFileSync(file, lines(5, 500));
    await advance(READ_MS);
    await settle('the read that filled the buffer', () => delivery.messages.length === 6);
    // A long outage: nothing is read, so the polls back off to --max-poll-interval, and stay there.
    await advance(30_000);
    expect(delivery.messages.length).toBe(6);
    const readWait = (
      await registry.getSingleMetricAsString('log_sidecar_read_poll_interval_seconds')
    ).trim();
    expect(readWait.split('\n').at(-1)).toBe(`log_sidecar_read_poll_interval_seconds ${MAX_POLL_MS / 1000}`);

    // Room again: the paused read goes on at once, with no poll at all (the fake clock stands still).
    delivery.makeRoom();
    await settle('every line after the outage', () => delivery.messages.length === 500);
    expect(delivery.messages).toEqual(Array.from({ length: 500 }, (_, n) => `line ${n}`));
  });
});
