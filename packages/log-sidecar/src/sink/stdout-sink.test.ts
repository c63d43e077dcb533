import { PassThrough, Writable } from 'node:stream';
import { waitFor } from '@agent-sidecars/shared/testing';
import { describe, expect, it } from 'vitest';
import { FIXTURE_ERROR_TIME, fixtureRecords, tracebackFixture } from '../../test/traceback-fixtures.js';
import type { LogRecord } from '../record.js';
import { RecordLineEncoder } from './record-line-encoder.js';
import { StdoutSink } from './stdout-sink.js';

const never = new AbortController().signal;

function record(n: number, overrides: Partial<LogRecord> = {}): LogRecord {
  return {
    id: `f1-${n}`,
    fileKey: 'f1',
    path: '/var/log/agent/app.log',
    offset: n,
    endOffset: n + 1,
    time: Date.UTC(2024, 4, 6, 7, 8, 9, 5) + n,
    message: `hello ${n}`,
    fields: undefined,
    labels: { pod: 'agent-0' },
    truncated: false,
    readAt: 0,
    bytes: 8,
    ...overrides,
  };
}

describe('StdoutSink', () => {
  it('writes an error record with the fields and ts of its JSON line and the traceback in exc_info', async () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c.toString()));
    const fixture = tracebackFixture('exception-group');
    const result = await new StdoutSink({ stream }).send(
      fixtureRecords('exception-group', { pod: 'agent-0' }),
      new AbortController().signal,
    );
    expect(result).toMatchObject({ outcome: 'delivered' });
    const [error, next] = chunks
      .join('')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(error).toEqual({
      time: new Date(FIXTURE_ERROR_TIME).toISOString(),
      path: '/var/log/agent/requests.log',
      id: '1-2-abc:0',
      labels: { pod: 'agent-0' },
      fields: { ...JSON.parse(fixture.errorLine), exc_info: fixture.traceback },
    });
    expect(next.fields).toEqual(JSON.parse(fixture.nextLine));
  });

  it('writes one JSON object a line and delivers when the write callback fires', async () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c.toString()));
    const sink = new StdoutSink({ stream });
    const json = '{"level":"info","msg":"started","n":1}';
    const result = await sink.send(
      [record(0), record(1, { fields: JSON.parse(json), message: json, truncated: true, labels: {} })],
      new AbortController().signal,
    );
    expect(result).toMatchObject({ outcome: 'delivered' });
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toBe(
      '{"time":"2024-05-06T07:08:09.005Z","path":"/var/log/agent/app.log","id":"f1-0","labels":{"pod":"agent-0"},"message":"hello 0"}\n' +
        '{"time":"2024-05-06T07:08:09.006Z","path":"/var/log/agent/app.log","id":"f1-1","truncated":true,"fields":{"level":"info","msg":"started","n":1}}\n',
    );
  });

  it('re-serialises fields whose text spans lines', async () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (c: Buffer) => {
      text += c.toString();
    });
    const message = '{\n"a": 1}';
    await new StdoutSink({ stream }).send(
      [record(0, { message, fields: { a: 1 } })],
      new AbortController().signal,
    );
    expect(JSON.parse(text).fields).toEqual({ a: 1 });
    expect(text.split('\n')).toHaveLength(2);
  });

  it('waits for a slow reader: delivered only once the bytes are taken', async () => {
    let release: (() => void) | undefined;
    const stream = new Writable({
      highWaterMark: 16,
      write(_chunk, _encoding, callback) {
        release = callback;
      },
    });
    const sink = new StdoutSink({ stream });
    let result: unknown;
    void sink.send([record(0), record(1)], new AbortController().signal).then((r) => {
      result = r;
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(result).toBeUndefined();
    release!();
    await waitFor('the write callback', () => result, { timeoutMs: 5000, intervalMs: 5 });
    expect(result).toMatchObject({ outcome: 'delivered' });
  });

  it('reports a write error as retryable', async () => {
    const stream = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error('EPIPE'));
      },
    });
    stream.on('error', () => {});
    const result = await new StdoutSink({ stream }).send([record(0)], new AbortController().signal);
    expect(result).toMatchObject({ outcome: 'retryable', reason: expect.stringContaining('EPIPE') });
  });
});

describe('StdoutSink reusing its batch buffers', () => {
  /** Like a pipe to a slow reader: a chunk's bytes are taken a moment after write() returned. */
  class LateCopy extends Writable {
    readonly taken: Buffer[] = [];
    readonly memories: ArrayBufferLike[] = [];
    override _write(chunk: Buffer, _encoding: string, done: (error?: Error | null) => void): void {
      this.memories.push(chunk.buffer);
      setTimeout(() => {
        this.taken.push(Buffer.from(chunk));
        done();
      }, 2);
    }
  }

  const batch = (n: number): LogRecord[] =>
    Array.from({ length: 300 + ((n * 7) % 5) * 50 }, (_, i) => ({
      id: `k-${i}`,
      fileKey: 'k',
      path: '/var/log/app.log',
      offset: i * 10,
      endOffset: i * 10 + 10,
      time: Date.UTC(2025, 0, 2, 3, 4, 5, n),
      message: `batch ${n} line ${i} ${'y'.repeat(i % 40)} "é"`,
      fields: undefined,
      labels: {},
      truncated: false,
      readAt: 0,
      bytes: 10,
    }));

  it('writes every batch byte for byte, batches in flight at once, while memory is used again', async () => {
    const stream = new LateCopy({ highWaterMark: 1 << 30 });
    const sink = new StdoutSink({ stream, reuseBuffers: true });
    const batches = Array.from({ length: 12 }, (_, n) => batch(n));
    // Three at a time: later writes queue behind the one whose bytes are not taken yet.
    for (let n = 0; n < batches.length; n += 3) {
      const results = await Promise.all(batches.slice(n, n + 3).map((b) => sink.send(b, never)));
      for (const result of results) expect(result.outcome).toBe('delivered');
    }
    const expected = batches.map((b) => new RecordLineEncoder().bytes(b).toString('utf8'));
    expect(stream.taken.map((b) => b.toString('utf8'))).toEqual(expected);
    expect(new Set(stream.memories).size).toBeLessThan(stream.memories.length);
  });
});
