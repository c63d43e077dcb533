import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LogRecord } from '../record.js';
import { RecordBuilder } from '../record-builder.js';
import { fstatFile } from './file-handle.js';
import { readMarkerSync } from './file-identity.js';
import {
  FileTailer,
  type NotResumable,
  type ParkedAt,
  type ResumeCandidate,
  type TailerOptions,
} from './file-tailer.js';

// The interleavings under test: the file is truncated and written again right after the tailer read its
// first line to identify it (before it checked that line's checkpoint or parked offset against the
// file), or right after it read the first line again to confirm what it decided. The file system gives
// no hook there, so the reads of the first line are wrapped: `afterReads[i]` runs after the i-th one.
const hook = vi.hoisted(() => ({ afterReads: [] as ((() => void) | undefined)[] }));
vi.mock('./file-identity.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('./file-identity.js')>();
  return {
    ...real,
    readIdentity: async (...args: Parameters<typeof real.readIdentity>) => {
      const identity = await real.readIdentity(...args);
      hook.afterReads.shift()?.();
      return identity;
    },
  };
});

const dirs: string[] = [];
afterEach(() => {
  hook.afterReads = [];
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const lines = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `line ${from + i} ${'x'.repeat(40)}\n`).join('');

function setUp(
  candidates: (base: string) => readonly ResumeCandidate[] = () => [],
  checkpointedOffset: (key: string) => number = () => 0,
) {
  const dir = mkdtempSync(join(tmpdir(), 'file-tailer-identify-'));
  dirs.push(dir);
  const path = join(dir, 'app.log');
  const records: LogRecord[] = [];
  const refused: NotResumable[] = [];
  const options: TailerOptions = {
    builder: new RecordBuilder('raw', {}),
    sinkNames: ['stdout'],
    maxLineBytes: 64 * 1024,
    multiline: { kind: 'none' },
    multilineTimeoutMs: 1000,
    accept: (record) => records.push(record) > 0,
    candidates,
    freshKey: (base) => `${base}~${records.length}`,
    notResumable: (_tailer, why) => refused.push(why),
    identified: (tailer) => new Map([['stdout', checkpointedOffset(tailer.identity!.key)]]),
    counted: () => {},
    now: Date.now,
  };
  const open = async (parked?: ParkedAt) => {
    const fd = openSync(path, 'r');
    return new FileTailer(options, fd, path, await fstatFile(fd), parked);
  };
  return { path, records, refused, options, open };
}

async function readToEof(tailer: FileTailer): Promise<void> {
  const buffer = Buffer.alloc(4096);
  let outcome: string;
  do outcome = await tailer.readChunk(buffer);
  while (outcome === 'more' || outcome === 'rewritten');
  expect(outcome).toBe('eof');
}

const messages = (records: readonly LogRecord[]) => records.map((r) => r.message);

describe('FileTailer identification racing a truncation', () => {
  it('reopened after freeing its slot: a rewrite between the first-line read and the offset check is told once', async () => {
    const { path, records, refused, open } = setUp();
    writeFileSync(path, lines(0, 50));
    const first = await open();
    await readToEof(first);
    const parked = first.parkedAt();
    expect(parked).toBeDefined();
    await first.close();
    records.length = 0;

    const tailer = await open(parked);
    // copytruncate (or truncate) and new writes, longer than before, just after the first line was read.
    hook.afterReads = [() => writeFileSync(path, lines(1000, 1200))];
    await readToEof(tailer);
    expect(refused).toEqual([{ offset: parked!.position, reason: 'changed' }]);
    // The identity is that of what the file holds now: the next truncation check finds nothing to redo.
    expect(await tailer.checkTruncation()).toBe(false);
    await readToEof(tailer);
    expect(messages(records)).toEqual(lines(1000, 1200).trimEnd().split('\n'));
    await tailer.close();
  });

  it('resuming a checkpoint: a rewrite between the first-line read and the checkpoint check is read once', async () => {
    let oldBase = '';
    let checkpointed: ResumeCandidate | undefined;
    const { path, records, refused, open } = setUp((base) =>
      base === oldBase && checkpointed ? [checkpointed] : [],
    );
    writeFileSync(path, lines(0, 50));
    const first = await open();
    await readToEof(first);
    oldBase = first.identity!.base;
    const fd = openSync(path, 'r');
    checkpointed = { key: oldBase, offsets: [first.position], marker: readMarkerSync(fd, first.position) };
    closeSync(fd);
    await first.close();
    records.length = 0;

    // A restart: the checkpoint of the old content is a candidate; the file is rewritten meanwhile.
    const tailer = await open();
    hook.afterReads = [() => writeFileSync(path, lines(1000, 1200))];
    await readToEof(tailer);
    // What it holds now has another first line: new content, not the checkpointed one read again.
    expect(refused).toEqual([]);
    expect(tailer.identity!.base).not.toBe(oldBase);
    expect(await tailer.checkTruncation()).toBe(false);
    await readToEof(tailer);
    expect(messages(records)).toEqual(lines(1000, 1200).trimEnd().split('\n'));
    await tailer.close();
  });

  // Same first line, other content after it, longer than before: only the bytes before the resume offset
  // tell it apart, and they must be the ones checked while deciding, not the rewritten file's.
  const sameFirstLine = () => lines(0, 1) + lines(5000, 5200);

  it('reopened after freeing its slot: a rewrite with the same first line after the re-check is read from its start', async () => {
    const { path, records, refused, open } = setUp();
    writeFileSync(path, lines(0, 50));
    const first = await open();
    await readToEof(first);
    const parked = first.parkedAt();
    await first.close();
    records.length = 0;

    const tailer = await open(parked);
    hook.afterReads = [undefined, () => writeFileSync(path, sameFirstLine())];
    await readToEof(tailer);
    expect(refused).toEqual([]);
    expect(messages(records)).toEqual(sameFirstLine().trimEnd().split('\n'));
    await tailer.close();
  });

  it('resuming a checkpoint: a rewrite with the same first line after the re-check is read from its start', async () => {
    let checkpointed: ResumeCandidate | undefined;
    const { path, records, open } = setUp(
      () => (checkpointed ? [checkpointed] : []),
      (key) => (key === checkpointed?.key ? checkpointed.offsets[0]! : 0),
    );
    writeFileSync(path, lines(0, 50));
    const first = await open();
    await readToEof(first);
    const fd = openSync(path, 'r');
    checkpointed = {
      key: first.identity!.base,
      offsets: [first.position],
      marker: readMarkerSync(fd, first.position),
    };
    closeSync(fd);
    await first.close();
    records.length = 0;

    const tailer = await open();
    hook.afterReads = [undefined, () => writeFileSync(path, sameFirstLine())];
    await readToEof(tailer);
    expect(messages(records)).toEqual(sameFirstLine().trimEnd().split('\n'));
    await tailer.close();
  });
});
