import { mkdtempSync, rmSync, type Stats, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@agent-sidecars/shared';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import { Checkpointer } from '../checkpoint/checkpointer.js';
import type { Delivery } from '../delivery/delivery.js';
import { SourceEvents } from '../events.js';
import type { LogRecord } from '../record.js';
import { RecordBuilder } from '../record-builder.js';
import { SourceMetrics } from '../source-metrics.js';
import { FileServer } from './file-server.js';

// Opens are counted, and the open of one path can be held back: a scan is then still opening a file
// while the read loop goes on with the others, as on a busy machine. Reads are counted to know when the
// read loop has done what it was given.
const opens = vi.hoisted(() => ({
  count: new Map<string, number>(),
  held: new Map<string, Promise<void>>(),
  reads: { started: 0, done: 0 },
}));
vi.mock('./file-handle.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('./file-handle.js')>();
  return {
    ...real,
    openFile: async (path: string) => {
      opens.count.set(path, (opens.count.get(path) ?? 0) + 1);
      await opens.held.get(path);
      return real.openFile(path);
    },
    pread: async (...args: Parameters<typeof real.pread>) => {
      opens.reads.started++;
      try {
        return await real.pread(...args);
      } finally {
        opens.reads.done++;
      }
    },
  };
});

const dirs: string[] = [];
let server: FileServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  opens.count.clear();
  opens.held.clear();
  opens.reads.started = opens.reads.done = 0;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'file-server-'));
  dirs.push(dir);
  return dir;
}

const lines = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `line ${from + i}\n`).join('');

/**
 * Two files of 10 lines each in a temp directory, and a file server (`maxOpenFiles` slots) over a
 * delivery that takes every record, with its checkpoint in another temp directory.
 */
function twoFiles(names: [string, string], maxOpenFiles: number) {
  const dir = tempDir();
  const paths = names.map((name) => join(dir, name)) as [string, string];
  for (const path of paths) writeFileSync(path, lines(0, 10));
  const messages: string[] = [];
  const delivery = {
    sinkNames: ['stdout'],
    bufferFull: false,
    accept: (record: LogRecord) => messages.push(String(record.message)) > 0,
    sourceBehind: () => {},
    whenWritable: async () => {},
  } as unknown as Delivery;
  const now = Date.now;
  const events = new SourceEvents(
    createLogger({ name: 'test', level: 'silent' }),
    new SourceMetrics(new Registry(), () => []),
    now,
  );
  const store = new CheckpointStore(join(tempDir(), 'ckpt'));
  store.load();
  const checkpointer = new Checkpointer({ store, sinkNames: ['stdout'], events, graceMs: 60_000, now });
  server = new FileServer({
    delivery,
    checkpointer,
    builder: new RecordBuilder('raw', {}),
    events,
    maxLineBytes: 1024,
    multiline: { kind: 'none' },
    multilineTimeoutMs: 1000,
    readBufferBytes: 64 * 1024,
    rotateWaitMs: 60_000,
    maxOpenFiles,
    now,
  });
  return { server, paths, messages };
}

/** Waits on the event loop until `done()`. */
async function settle(what: string, done: () => boolean): Promise<void> {
  const giveUpAt = performance.now() + 10_000;
  while (!done()) {
    if (performance.now() > giveUpAt) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Waits until every read the file server started has returned, and what follows it in the same turn ran. */
async function readsDone(): Promise<void> {
  await settle('the reads started to return', () => opens.reads.done === opens.reads.started);
  await new Promise((resolve) => setImmediate(resolve));
}

const openPaths = (fileServer: FileServer) => [...fileServer.files()].map((file) => file.path).sort();

describe('FileServer open-file slots', () => {
  it('keeps a file read to its end open while a scan opens another into a free slot', async () => {
    const { server, paths, messages } = twoFiles(['app.log', 'app.log.1'], 256);
    const [log, copy] = paths;
    await server.reconcile(new Map([[log, statSync(log)]]));
    await settle('app.log read', () => messages.length === 10);
    await readsDone();

    // The next scan finds the copy; its open is slow. Meanwhile a read poll finds app.log at its end.
    let letOpen = () => {};
    opens.held.set(
      copy,
      new Promise((resolve) => {
        letOpen = resolve;
      }),
    );
    const found = new Map<string, Stats>([
      [log, statSync(log)],
      [copy, statSync(copy)],
    ]);
    const scan = server.reconcile(found);
    await settle('the copy being opened', () => opens.count.get(copy) === 1);
    const reads = opens.reads.started;
    server.tick();
    expect(opens.reads.started).toBeGreaterThan(reads);
    await readsDone();
    letOpen();
    await scan;
    await settle('the copy read', () => messages.length === 20);

    // 2 files, 256 slots: app.log was never closed to give its slot to the copy, nor opened again.
    expect(openPaths(server)).toEqual([copy, log].sort());
    expect(opens.count.get(log)).toBe(1);
  });

  it('closes a file read to its end to give its slot when every slot is taken', async () => {
    const { server, paths, messages } = twoFiles(['app.log', 'other.log'], 1);
    const [log, other] = paths;
    await server.reconcile(
      new Map([
        [log, statSync(log)],
        [other, statSync(other)],
      ]),
    );
    await settle('both files read', () => messages.length === 20);
    expect(openPaths(server)).toHaveLength(1);
    expect(opens.count.get(log)).toBe(1);
    expect(opens.count.get(other)).toBe(1);
  });
});
