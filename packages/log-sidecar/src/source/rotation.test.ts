import { closeSync, mkdtempSync, openSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@agent-sidecars/shared';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import { Checkpointer } from '../checkpoint/checkpointer.js';
import { SourceEvents } from '../events.js';
import { RecordBuilder } from '../record-builder.js';
import { SourceMetrics } from '../source-metrics.js';
import { fstatFile, openFile } from './file-handle.js';
import { FileTailer, type TailerOptions } from './file-tailer.js';
import { RotatedSiblings, Rotation } from './rotation.js';

const ROTATE_WAIT_MS = 2000;
const dirs: string[] = [];
const tailers: FileTailer[] = [];
afterEach(async () => {
  for (const tailer of tailers.splice(0)) await tailer.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rotation-'));
  dirs.push(dir);
  return dir;
}

function setup(dir: string) {
  const clock = { now: 1_000_000 };
  const registry = new Registry();
  const metrics = new SourceMetrics(registry, () => []);
  const events = new SourceEvents(createLogger({ name: 'test', level: 'silent' }), metrics);
  const store = new CheckpointStore(join(dir, '.ckpt'));
  store.load();
  const checkpointer = new Checkpointer({
    store,
    sinkNames: ['stdout'],
    events,
    graceMs: 60_000,
    now: () => clock.now,
  });
  const rotation = new Rotation({ checkpointer, events, rotateWaitMs: ROTATE_WAIT_MS, now: () => clock.now });
  const options: TailerOptions = {
    builder: new RecordBuilder('raw', {}),
    sinkNames: ['stdout'],
    maxLineBytes: 1024,
    multiline: { kind: 'none' },
    multilineTimeoutMs: 1000,
    now: () => clock.now,
    accept: (record) => {
      checkpointer.accepted(record.fileKey, record.endOffset);
      return true;
    },
    candidates: (base) => checkpointer.candidates(base),
    freshKey: (base) => checkpointer.freshKey(base),
    notResumable: () => {},
    identified: (tailer) =>
      checkpointer.identified({
        key: tailer.fileKey,
        base: tailer.identity!.base,
        path: tailer.path,
        dev: tailer.dev,
        ino: tailer.ino,
      }),
    counted: () => {},
  };
  const open = async (path: string) => {
    const fd = await openFile(path);
    const tailer = new FileTailer(options, fd, path, await fstatFile(fd));
    tailers.push(tailer);
    return tailer;
  };
  const rotations = async () => (await metrics.rotations.get()).values[0]?.value ?? 0;
  return { clock, rotation, checkpointer, store, open, rotations };
}

describe('Rotation', () => {
  it('follows a rename under a watched name, and the checkpoint follows it', async () => {
    const dir = tempDir();
    const { rotation, checkpointer, open, rotations } = setup(dir);
    writeFileSync(join(dir, 'app.log'), 'one\n');
    const tailer = await open(join(dir, 'app.log'));
    await tailer.readChunk(Buffer.alloc(64));
    checkpointer.onAck({ sink: 'stdout', fileKey: tailer.fileKey, endOffset: 4 });
    rotation.observe(tailer, join(dir, 'app.log.1'));
    expect(tailer.path).toBe(join(dir, 'app.log.1'));
    expect(rotation.isRotated(tailer)).toBe(false);
    expect(await rotations()).toBe(0);
    expect(checkpointer.shortfall([], undefined)).toEqual([]);
    checkpointer.accepted(tailer.fileKey, 9);
    expect(checkpointer.shortfall([], undefined)).toEqual([
      {
        path: join(dir, 'app.log.1'),
        sink: 'stdout',
        records: 1,
        bytes: 0,
        reason: 'not acknowledged by the sink',
      },
    ]);
  });

  it('counts a file no scan finds as rotated away once, and not any more when it is found again', async () => {
    const dir = tempDir();
    const { rotation, open, rotations } = setup(dir);
    writeFileSync(join(dir, 'app.log'), 'one\n');
    const tailer = await open(join(dir, 'app.log'));
    rotation.observe(tailer, undefined);
    rotation.observe(tailer, undefined);
    expect(rotation.isRotated(tailer)).toBe(true);
    expect(await rotations()).toBe(1);
    rotation.observe(tailer, join(dir, 'app.log'));
    expect(rotation.isRotated(tailer)).toBe(false);
  });

  it('lets a rotated file go only once it has been quiet for the rotate wait', async () => {
    const dir = tempDir();
    const { clock, rotation, open } = setup(dir);
    writeFileSync(join(dir, 'app.log'), 'one\n');
    const tailer = await open(join(dir, 'app.log'));
    expect(rotation.dueForRelease(tailer)).toBe(false);
    rotation.observe(tailer, undefined);
    clock.now += ROTATE_WAIT_MS - 1;
    expect(rotation.dueForRelease(tailer)).toBe(false);
    // Data read late restarts the quiet time.
    await tailer.readChunk(Buffer.alloc(64));
    clock.now += ROTATE_WAIT_MS - 1;
    expect(rotation.dueForRelease(tailer)).toBe(false);
    clock.now += 1;
    expect(rotation.dueForRelease(tailer)).toBe(true);
    rotation.released(tailer);
    expect(rotation.isRotated(tailer)).toBe(false);
  });

  it('after a restart, finds a file rotated while it was down and reads it from its checkpoint', async () => {
    const dir = tempDir();
    const before = setup(dir);
    const path = join(dir, 'app.log');
    writeFileSync(path, 'first line\nsecond line\n');
    const tailer = await before.open(path);
    await tailer.readChunk(Buffer.alloc(64));
    before.checkpointer.onAck({ sink: 'stdout', fileKey: tailer.fileKey, endOffset: 11 });
    before.checkpointer.write(undefined);
    await tailer.close();
    // Down: the file is renamed away, a new one takes its name.
    renameSync(path, join(dir, 'app.log.1'));
    writeFileSync(path, 'new file\n');

    const after = setup(dir);
    const opened: string[] = [];
    const isOpen = (dev: number, ino: number) => {
      const stats = statSync(path);
      return stats.dev === dev && stats.ino === ino;
    };
    let found: FileTailer | undefined;
    await after.rotation.recover(isOpen, async (p) => {
      opened.push(p);
      found = await after.open(p);
      return found;
    });
    expect(opened).toEqual([join(dir, 'app.log.1')]);
    expect(after.rotation.isRotated(found!)).toBe(true);
  });

  it('after a restart, leaves alone a file read to its end, or one whose first line changed', async () => {
    const dir = tempDir();
    const before = setup(dir);
    const done = join(dir, 'done.log');
    const rewritten = join(dir, 'rewritten.log');
    writeFileSync(done, 'all read\n');
    writeFileSync(rewritten, 'old banner\nmore\n');
    for (const [path, end] of [
      [done, 9],
      [rewritten, 11],
    ] as const) {
      const tailer = await before.open(path);
      await tailer.readChunk(Buffer.alloc(64));
      before.checkpointer.onAck({ sink: 'stdout', fileKey: tailer.fileKey, endOffset: end });
    }
    before.checkpointer.write(undefined);
    // Same inode, new content: not the file the checkpoint knows.
    const fd = openSync(rewritten, 'r+');
    writeFileSync(fd, 'NEW banner\nmore\n');
    closeSync(fd);
    renameSync(done, join(dir, 'done.log.1'));
    renameSync(rewritten, join(dir, 'rewritten.log.1'));

    const after = setup(dir);
    const opened: string[] = [];
    await after.rotation.recover(
      () => false,
      async (p) => {
        opened.push(p);
        return undefined;
      },
    );
    expect(opened).toEqual([]);
  });
});

describe('RotatedSiblings', () => {
  it('hands a sibling over when new or changed, not again while unchanged', () => {
    const dir = tempDir();
    const path = join(dir, 'app.log.1');
    writeFileSync(path, 'a\n');
    const siblings = new RotatedSiblings(60_000, Date.now);
    expect(siblings.offer(statSync(path), 1)).toBe(true);
    expect(siblings.offer(statSync(path), 2)).toBe(false);
    writeFileSync(path, 'a\nb\n');
    expect(siblings.offer(statSync(path), 3)).toBe(true);
  });

  it('leaves out siblings older than the checkpoint grace and anything not a regular file', () => {
    const dir = tempDir();
    const path = join(dir, 'app.log.1');
    writeFileSync(path, 'a\n');
    const later = () => statSync(path).mtimeMs + 60_001;
    expect(new RotatedSiblings(60_000, later).offer(statSync(path), 1)).toBe(false);
    expect(new RotatedSiblings(60_000, Date.now).offer(statSync(dir), 1)).toBe(false);
  });

  it('hands a sibling over again when it moved before it was opened, or was not listed for 10 scans', () => {
    const dir = tempDir();
    const path = join(dir, 'app.log.1');
    writeFileSync(path, 'a\n');
    const siblings = new RotatedSiblings(60_000, Date.now);
    const listed = statSync(path);
    siblings.offer(listed, 1);
    siblings.confirm(listed, statSync(path));
    expect(siblings.offer(statSync(path), 2)).toBe(false);
    // Moved to .2 by a cascade before it was opened: what is at the path now is another file.
    siblings.confirm(listed, undefined);
    expect(siblings.offer(statSync(path), 3)).toBe(true);
    // Remembered for 10 scans without being listed (a listing can miss entries mid-cascade), then forgotten.
    siblings.expire(13);
    expect(siblings.offer(statSync(path), 13)).toBe(false);
    siblings.expire(24);
    expect(siblings.offer(statSync(path), 24)).toBe(true);
  });
});
