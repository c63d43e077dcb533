import { mkdtempSync, openSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LogRecord } from '../record.js';
import { RecordBuilder } from '../record-builder.js';
import { fstatFile } from './file-handle.js';
import { FileTailer, type TailerOptions } from './file-tailer.js';

const TIMEOUT_MS = 1000;
const dirs: string[] = [];

afterEach(() => {
  vi.useRealTimers();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('FileTailer size after a rewrite found by a read', () => {
  it('is the size of the rewritten file, not of the old content, from the read that found the rewrite on', async () => {
    const old = `${'first line of the old content\n'}${'x'.repeat(200)}\n`.repeat(20);
    const { tailer, path } = await tailerOf(old);
    while ((await tailer.readChunk(Buffer.alloc(4096))) === 'more') {}
    expect(tailer.size).toBe(Buffer.byteLength(old));
    // Truncated and written again, longer than the read offset, so only the bytes before it tell.
    const rewritten = 'a new first line\n'.repeat(400);
    truncateSync(path, 0);
    writeFileSync(path, rewritten);
    expect(await tailer.readChunk(Buffer.alloc(4096))).toBe('rewritten');
    expect(tailer.size).toBe(Buffer.byteLength(rewritten));
  });
});

async function tailerOf(
  text: string,
  room = Number.POSITIVE_INFINITY,
  multiline?: TailerOptions['multiline'],
) {
  const dir = mkdtempSync(join(tmpdir(), 'file-tailer-'));
  dirs.push(dir);
  const path = join(dir, 'app.log');
  writeFileSync(path, text);
  const fd = openSync(path, 'r');
  const records: LogRecord[] = [];
  const options: TailerOptions = {
    builder: new RecordBuilder('raw', {}),
    sinkNames: ['stdout'],
    maxLineBytes: 64 * 1024,
    multiline: multiline ?? { kind: 'python' },
    multilineTimeoutMs: TIMEOUT_MS,
    // `room` records fit in the "delivery's buffer"; every record is kept either way, as the delivery does.
    accept: (record) => records.push(record) < room,
    candidates: () => [],
    freshKey: (base) => base,
    notResumable: () => {},
    identified: () => new Map([['stdout', 0]]),
    counted: () => {},
    now: Date.now,
  };
  const tailer = new FileTailer(options, fd, path, await fstatFile(fd));
  return { tailer, records, path };
}

describe('FileTailer multiline timeout', () => {
  const head = 'ERROR:agent:failed\nTraceback (most recent call last):\n  File "/app/x.py", line 1, in f\n';
  const tail = 'ValueError: boom\nINFO:agent:next\n';

  it('does not emit a pending group while the rest of the file is unread (reading paused)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { tailer, records } = await tailerOf(head + tail);
    // A buffer the size of the head: the first read stops before the traceback's last line, as when
    // the pipeline pauses reading on backpressure after this chunk.
    expect(await tailer.readChunk(Buffer.alloc(Buffer.byteLength(head)))).toBe('more');
    expect(records).toEqual([]);
    for (let i = 0; i < 5; i++) await vi.advanceTimersByTimeAsync(TIMEOUT_MS);
    expect(records).toEqual([]);

    const buffer = Buffer.alloc(64 * 1024);
    expect(await tailer.readChunk(buffer)).toBe('more');
    expect(records.map((r) => r.message)).toEqual([`${head}ValueError: boom`]);
    await tailer.close();
  });

  it('emits a pending group after the timeout once the file is read to its end and quiet', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { tailer, records } = await tailerOf(head + tail);
    const buffer = Buffer.alloc(64 * 1024);
    expect(await tailer.readChunk(buffer)).toBe('more');
    expect(await tailer.readChunk(buffer)).toBe('eof');
    expect(records).toHaveLength(1);
    await vi.waitFor(() => expect(records).toHaveLength(2), { timeout: 10 * TIMEOUT_MS, interval: 100 });
    expect(records[1]!.message).toBe('INFO:agent:next');
    await tailer.close();
  });
});

describe('FileTailer when the delivery is full', () => {
  const lines = Array.from({ length: 50 }, (_, i) => `line ${i} ${'x'.repeat(i % 7)}`);
  const text = `${lines.join('\n')}\n`;

  it('stops after the record that filled the buffer and reads the rest again later, each line once', async () => {
    const { tailer, records } = await tailerOf(text, 10, { kind: 'none' });
    const buffer = Buffer.alloc(64 * 1024);
    expect(await tailer.readChunk(buffer)).toBe('more');
    // The 10th record said "full": nothing after its line was framed, so nothing more was accepted.
    expect(records).toHaveLength(10);
    expect(tailer.position).toBe(records[9]!.endOffset);
    while ((await tailer.readChunk(buffer)) === 'more') {}
    expect(records.map((r) => r.message)).toEqual(lines);
    // Offsets are contiguous: no line skipped, none framed twice.
    for (let i = 1; i < records.length; i++) expect(records[i]!.offset).toBe(records[i - 1]!.endOffset);
    expect(tailer.position).toBe(Buffer.byteLength(text));
    await tailer.close();
  });

  it('stops after a held partial line completed by the read, if that filled the buffer', async () => {
    const { tailer, records } = await tailerOf(text, 1, { kind: 'none' });
    // The first read ends inside line 0: it is held, then completed by the next read, which stops there.
    expect(await tailer.readChunk(Buffer.alloc(4))).toBe('more');
    expect(records).toHaveLength(0);
    const buffer = Buffer.alloc(64 * 1024);
    expect(await tailer.readChunk(buffer)).toBe('more');
    expect(records.map((r) => r.message)).toEqual([lines[0]]);
    while ((await tailer.readChunk(buffer)) === 'more') {}
    expect(records.map((r) => r.message)).toEqual(lines);
    await tailer.close();
  });

  it('keeps a multiline group whole when the group before it filled the buffer', async () => {
    const group =
      'ERROR:agent:failed\nTraceback (most recent call last):\n  File "x.py", line 1\nValueError: a\n';
    const { tailer, records } = await tailerOf(`INFO:agent:one\n${group}INFO:agent:two\n`, 1);
    const buffer = Buffer.alloc(64 * 1024);
    expect(await tailer.readChunk(buffer)).toBe('more');
    // "one" was emitted when the group's first line arrived, and said "full": reading stopped there.
    expect(records.map((r) => r.message)).toEqual(['INFO:agent:one']);
    while ((await tailer.readChunk(buffer)) === 'more') {}
    tailer.flushHeld();
    expect(records.map((r) => r.message)).toEqual(['INFO:agent:one', group.slice(0, -1), 'INFO:agent:two']);
    await tailer.close();
  });
});
