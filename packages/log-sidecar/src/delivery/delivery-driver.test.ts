import { PassThrough, Writable } from 'node:stream';
import { createLogger } from '@agent-sidecars/shared';
import { waitFor } from '@agent-sidecars/shared/testing';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../record.js';
import type { SendResult, Sink } from '../sink/sink.js';
import { DeadlineSpill } from './deadline-spill.js';
import type { Acknowledgement } from './delivery.js';
import { createDelivery, type DeliveryOptions, RECORD_OVERHEAD_BYTES } from './delivery-driver.js';

function record(file: string, n: number, overrides: Partial<LogRecord> = {}): LogRecord {
  return {
    id: `${file}:${n * 10}`,
    fileKey: file,
    path: `/logs/${file}.log`,
    offset: n * 10,
    endOffset: (n + 1) * 10,
    time: 1_700_000_000_000 + n,
    message: `line ${n}`,
    fields: undefined,
    labels: {},
    truncated: false,
    readAt: Date.now(),
    bytes: 10,
    ...overrides,
  };
}

type Handler = (
  records: readonly LogRecord[],
  call: number,
  signal: AbortSignal,
) => SendResult | Promise<SendResult>;

class FakeSink implements Sink {
  readonly calls: LogRecord[][] = [];
  closed = false;
  constructor(
    readonly name: string,
    private readonly handler: Handler = () => ({ outcome: 'delivered' }),
  ) {}
  async send(records: readonly LogRecord[], signal: AbortSignal): Promise<SendResult> {
    this.calls.push([...records]);
    return this.handler(records, this.calls.length, signal);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    name: 'test',
    level: 'debug',
    destination: { write: (line: string) => lines.push(JSON.parse(line)) },
  });
  return { logger, lines };
}

function setup(sinks: Sink[], overrides: Partial<DeliveryOptions> = {}) {
  const { logger, lines } = logCapture();
  const registry = new Registry();
  const delivery = createDelivery({
    sinks,
    logger,
    registry,
    bufferMaxBytes: 1_000_000,
    batchMaxRecords: 3,
    batchMaxBytes: 1_000_000,
    batchTimeoutMs: 60_000,
    retryBaseMs: 5,
    retryMaxMs: 20,
    ...overrides,
  });
  const acks: Acknowledgement[] = [];
  delivery.onAck((ack) => acks.push(ack));
  return { delivery, acks, lines, registry };
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  await waitFor('the condition', condition, { timeoutMs, intervalMs: 5 });
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A sink whose every request waits for the test to answer it. */
function answeredLater() {
  const answers: ReturnType<typeof deferred<SendResult>>[] = [];
  const sink = new FakeSink('slow', () => {
    const answer = deferred<SendResult>();
    answers.push(answer);
    return answer.promise;
  });
  return { sink, answers };
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string>) {
  const metric = await registry.getSingleMetric(name)?.get();
  const value = metric?.values.find((v) =>
    Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want),
  );
  return value?.value;
}

describe('delivery driver', () => {
  it('batches by count and acks each file at its highest delivered offset', async () => {
    const sink = new FakeSink('s');
    const { delivery, acks } = setup([sink]);
    for (let n = 0; n < 3; n++) delivery.accept(record(n === 1 ? 'b' : 'a', n));
    await until(() => acks.length === 2);
    expect(sink.calls.map((c) => c.length)).toEqual([3]);
    expect(acks).toEqual([
      { sink: 's', fileKey: 'a', endOffset: 30 },
      { sink: 's', fileKey: 'b', endOffset: 20 },
    ]);
    expect(delivery.bufferedBytes).toBe(0);
  });

  it('acks in order when a later batch is answered first', async () => {
    const answers = [deferred<SendResult>(), deferred<SendResult>()];
    const sink = new FakeSink('s', (_records, call) => answers[call - 1]!.promise);
    const { delivery, acks } = setup([sink], { maxInFlight: 2 });
    for (let n = 0; n < 6; n++) delivery.accept(record('a', n));
    await until(() => sink.calls.length === 2);
    answers[1]!.resolve({ outcome: 'delivered' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(acks).toEqual([]);
    answers[0]!.resolve({ outcome: 'delivered' });
    await until(() => acks.length === 1);
    expect(acks).toEqual([{ sink: 's', fileKey: 'a', endOffset: 60 }]);
  });

  it('keeps at most maxInFlight requests open', async () => {
    let open = 0;
    let most = 0;
    const sink = new FakeSink('s', async () => {
      open++;
      most = Math.max(most, open);
      await new Promise((resolve) => setTimeout(resolve, 5));
      open--;
      return { outcome: 'delivered' };
    });
    const { delivery, acks } = setup([sink], { maxInFlight: 2, batchMaxRecords: 1 });
    for (let n = 0; n < 10; n++) delivery.accept(record('a', n));
    await until(() => acks.at(-1)?.endOffset === 100);
    expect(most).toBe(2);
  });

  it('sends a partial batch when the batch timeout passes', async () => {
    const sink = new FakeSink('s');
    const { delivery, acks } = setup([sink], { batchTimeoutMs: 20 });
    delivery.accept(record('a', 0));
    await until(() => acks.length === 1);
    expect(sink.calls).toHaveLength(1);
  });

  it('retries on 503 and honours Retry-After', async () => {
    const sent: number[] = [];
    const sink = new FakeSink('s', (_r, call) => {
      sent.push(Date.now());
      return call === 1
        ? { outcome: 'retryable', reason: 'HTTP 503', status: 503, retryAfterMs: 300 }
        : { outcome: 'delivered', status: 200 };
    });
    const { delivery, acks, lines, registry } = setup([sink], { batchMaxRecords: 1 });
    delivery.accept(record('a', 0));
    await until(() => acks.length === 1);
    expect(sent[1]! - sent[0]!).toBeGreaterThanOrEqual(290);
    expect(lines.some((l) => l.msg === 'Sink is failing; retrying with backoff until it answers.')).toBe(
      true,
    );
    expect(await metricValue(registry, 'log_sidecar_sink_retries_total', { sink: 's' })).toBe(1);
    expect(await metricValue(registry, 'log_sidecar_sink_requests_total', { sink: 's', status: '503' })).toBe(
      1,
    );
  });

  it('splits a batch on 413 until it fits and rejects a single record that is too large', async () => {
    const sink = new FakeSink('s', (records) => {
      if (records.some((r) => r.message === 'line 2')) {
        return { outcome: 'too-large', reason: 'HTTP 413', status: 413 };
      }
      return records.length > 1
        ? { outcome: 'too-large', reason: 'HTTP 413', status: 413 }
        : { outcome: 'delivered' };
    });
    const { delivery, acks, lines, registry } = setup([sink], { batchMaxRecords: 4 });
    for (let n = 0; n < 4; n++) delivery.accept(record('a', n));
    await until(() => acks.length === 1);
    expect(acks[0]).toEqual({ sink: 's', fileKey: 'a', endOffset: 40 });
    const delivered = sink.calls.filter((c) => c.length === 1 && c[0]!.message !== 'line 2');
    expect(delivered.map((c) => c[0]!.message)).toEqual(['line 0', 'line 1', 'line 3']);
    expect(await metricValue(registry, 'log_sidecar_sink_records_rejected_total', { status: '413' })).toBe(1);
    const error = lines.find((l) => l.msg === 'Sink rejected records; they are lost.');
    expect(error).toMatchObject({ sink: 's', status: 413, records: 1 });
  });

  it('rejects a 400 once, logs it, counts it and moves the offset on', async () => {
    const sink = new FakeSink('s', () => ({ outcome: 'rejected', reason: 'HTTP 400: bad', status: 400 }));
    const { delivery, acks, lines, registry } = setup([sink]);
    for (let n = 0; n < 3; n++) delivery.accept(record('a', n));
    await until(() => acks.length === 1);
    expect(sink.calls).toHaveLength(1);
    expect(acks[0]!.endOffset).toBe(30);
    expect(lines.find((l) => l.level === 'error')).toMatchObject({ sink: 's', status: 400, records: 3 });
    expect(await metricValue(registry, 'log_sidecar_sink_records_rejected_total', { status: '400' })).toBe(3);
  });

  it('resends only the retryable items of a partial result', async () => {
    const sink = new FakeSink('s', (_records, call) =>
      call === 1
        ? {
            outcome: 'partial',
            retry: [1],
            rejected: [{ index: 2, reason: 'mapper_parsing_exception', status: 400 }],
          }
        : { outcome: 'delivered' },
    );
    const { delivery, acks, registry } = setup([sink]);
    for (let n = 0; n < 3; n++) delivery.accept(record('a', n));
    await until(() => acks.length === 1);
    expect(sink.calls.map((c) => c.map((r) => r.message))).toEqual([
      ['line 0', 'line 1', 'line 2'],
      ['line 1'],
    ]);
    expect(await metricValue(registry, 'log_sidecar_sink_records_rejected_total', { status: '400' })).toBe(1);
    expect(await metricValue(registry, 'log_sidecar_sink_records_sent_total', { sink: 's' })).toBe(2);
  });

  it('holds a record until every sink settled it and pauses the reader above the buffer bound', async () => {
    const slow = deferred<SendResult>();
    const fast = new FakeSink('fast');
    const held = new FakeSink('slow', () => slow.promise);
    // Each record costs its 10 bytes plus the per-record overhead: the bound is an estimate of memory.
    const cost = 10 + RECORD_OVERHEAD_BYTES;
    const { delivery, acks } = setup([fast, held], {
      bufferMaxBytes: 2.5 * cost,
      batchMaxRecords: 3,
    });
    expect(delivery.accept(record('a', 0))).toBe(true);
    expect(delivery.accept(record('a', 1))).toBe(true);
    expect(delivery.accept(record('a', 2))).toBe(false);
    await until(() => acks.some((a) => a.sink === 'fast'));
    expect(delivery.bufferedBytes).toBe(3 * cost);
    let writable = false;
    void delivery.whenWritable().then(() => {
      writable = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(writable).toBe(false);
    slow.resolve({ outcome: 'delivered' });
    await until(() => writable);
    expect(delivery.bufferedBytes).toBe(0);
    expect(acks.filter((a) => a.sink === 'slow')).toEqual([{ sink: 'slow', fileKey: 'a', endOffset: 30 }]);
  });

  it('pauses reading while every sink has enough batches waiting, below the memory bound too', async () => {
    const { sink, answers } = answeredLater();
    const { delivery, acks } = setup([sink], {
      batchMaxRecords: 1,
      maxInFlight: 1,
      readAheadBatches: 2,
    });
    expect(delivery.accept(record('a', 0))).toBe(true); // in flight
    expect(delivery.accept(record('a', 1))).toBe(true); // 1 waiting
    expect(delivery.accept(record('a', 2))).toBe(false); // 2 waiting: enough
    expect(delivery.bufferedBytes).toBeLessThan(1_000_000);
    let writable = false;
    void delivery.whenWritable().then(() => {
      writable = true;
    });
    await until(() => answers.length === 1);
    expect(writable).toBe(false);
    answers[0]!.resolve({ outcome: 'delivered' });
    // The next batch takes the free slot: one waiting again, so the reader may go on.
    await until(() => writable);
    expect(acks).toEqual([{ sink: 'slow', fileKey: 'a', endOffset: 10 }]);
    expect(delivery.accept(record('a', 3))).toBe(false);
    await delivery.close();
  });

  it('sends one large batch per backlog while the source is behind, and live-sized ones after', async () => {
    const sink = new FakeSink('s');
    const { delivery, acks } = setup([sink], { batchMaxRecords: 10, batchLiveRecords: 2 });
    delivery.sourceBehind(true);
    for (let n = 0; n < 13; n++) delivery.accept(record('a', n));
    delivery.sourceBehind(false);
    for (let n = 13; n < 17; n++) delivery.accept(record('a', n));
    await until(() => acks.at(-1)?.endOffset === 170);
    expect(sink.calls.map((c) => c.length)).toEqual([10, 3, 2, 2]);
  });

  it('counts the read-ahead in records, so a grown batch waiting pauses reading as live ones would', async () => {
    const { sink, answers } = answeredLater();
    const { delivery } = setup([sink], {
      batchMaxRecords: 100,
      batchLiveRecords: 2,
      maxInFlight: 1,
      readAheadBatches: 2,
    });
    delivery.sourceBehind(true);
    for (let n = 0; n < 100; n++) expect(delivery.accept(record('a', n))).toBe(true); // in flight
    // The next batch, 4 records (2 live batches' worth) waiting for the slot: enough.
    for (let n = 100; n < 104; n++) expect(delivery.accept(record('a', n))).toBe(true);
    delivery.sourceBehind(false);
    expect(delivery.accept(record('a', 104))).toBe(false);
    await until(() => answers.length === 1);
    expect(sink.calls.map((c) => c.length)).toEqual([100]);
    answers[0]!.resolve({ outcome: 'delivered' });
    await until(() => answers.length === 2);
    expect(sink.calls.map((c) => c.length)).toEqual([100, 4]);
    answers[1]!.resolve({ outcome: 'delivered' });
    await delivery.close();
  });

  it('accepts a record for some sinks only', async () => {
    const one = new FakeSink('one');
    const two = new FakeSink('two');
    const { delivery, acks } = setup([one, two], { batchMaxRecords: 1 });
    delivery.accept(record('a', 0), ['two']);
    await until(() => acks.length === 1);
    expect(one.calls).toHaveLength(0);
    expect(acks[0]!.sink).toBe('two');
    expect(() => delivery.accept(record('a', 1), ['three'])).toThrow(/unknown sink "three"/);
  });

  it('drains without waiting for the batch timeout', async () => {
    const sink = new FakeSink('s');
    const { delivery, acks } = setup([sink], { batchTimeoutMs: 600_000 });
    delivery.accept(record('a', 0));
    const report = await delivery.drain(Date.now() + 5000);
    expect(report).toEqual({ complete: true, undelivered: [] });
    expect(acks).toHaveLength(1);
  });

  it('retries at once when draining instead of sleeping the backoff', async () => {
    const sink = new FakeSink('s', (_r, call) =>
      call < 3 ? { outcome: 'retryable', reason: 'down', retryAfterMs: 60_000 } : { outcome: 'delivered' },
    );
    const { delivery, acks } = setup([sink], { batchMaxRecords: 1, retryBaseMs: 60_000, retryMaxMs: 60_000 });
    delivery.accept(record('a', 0));
    await until(() => sink.calls.length === 1);
    // Sleeping the 60 s backoff would reach the 10 s drain deadline with the record unacknowledged.
    const report = await delivery.drain(Date.now() + 10_000);
    expect(report.complete).toBe(true);
    expect(acks).toHaveLength(1);
  });

  it('reports and spills to stdout what a dead sink still owes at the deadline', async () => {
    const sink = new FakeSink(
      'dead',
      (_records, _call, signal) =>
        new Promise<SendResult>((resolve) =>
          signal.addEventListener('abort', () => resolve({ outcome: 'retryable', reason: 'aborted' })),
        ),
    );
    const ok = new FakeSink('ok');
    const stdout = new PassThrough();
    const out: Buffer[] = [];
    stdout.on('data', (chunk: Buffer) => out.push(chunk));
    const { delivery, lines, acks } = setup([ok, sink], { stdout, batchMaxRecords: 2 });
    for (let n = 0; n < 3; n++) delivery.accept(record('a', n));
    delivery.accept(record('b', 0));
    const deadline = Date.now() + 400;
    // The dead sink never answers on its own: a drain that ignored its deadline would never return.
    const report = await delivery.drain(deadline);
    expect(report.complete).toBe(false);
    expect(report.undelivered).toEqual([
      { sink: 'dead', fileKey: 'a', path: '/logs/a.log', records: 3, bytes: 30 },
      { sink: 'dead', fileKey: 'b', path: '/logs/b.log', records: 1, bytes: 10 },
    ]);
    expect(acks.filter((a) => a.sink === 'dead')).toEqual([]);
    // After the deadline, records read from the files' unread rest go to stdout too, after the held ones.
    expect(delivery.accept(record('a', 3))).toBe(true);
    const outcome = await delivery.finishSpill(Date.now() + 1000);
    expect(outcome).toMatchObject({ complete: true, records: 5 });
    expect(outcome?.through).toEqual(
      new Map([
        ['/logs/a.log', record('a', 3).endOffset],
        ['/logs/b.log', record('b', 0).endOffset],
      ]),
    );
    const spilled = Buffer.concat(out)
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(spilled.map((l) => l.message)).toEqual(['line 0', 'line 1', 'line 2', 'line 0', 'line 3']);
    // The per-file report is the caller's (main): the driver only says what it wrote to stdout.
    expect(lines.filter((l) => l.msg === 'Wrote undelivered records to stdout.')).toMatchObject([
      { records: 5 },
    ]);
  });

  it('drops instead of spilling with onDeadline drop', async () => {
    const sink = new FakeSink('dead', () => ({ outcome: 'retryable', reason: 'refused' }));
    const stdout = new PassThrough();
    let written = 0;
    stdout.on('data', (chunk: Buffer) => {
      written += chunk.length;
    });
    const { delivery } = setup([sink], { stdout, onDeadline: 'drop', batchMaxRecords: 1 });
    delivery.accept(record('a', 0));
    const report = await delivery.drain(Date.now() + 200);
    expect(report.undelivered).toHaveLength(1);
    expect(written).toBe(0);
    await delivery.close();
    expect(sink.closed).toBe(true);
  });

  it('gives a batch up after the retry limit, as a rejection', async () => {
    const sink = new FakeSink('s', () => ({ outcome: 'retryable', reason: 'HTTP 503', status: 503 }));
    const { delivery, acks, lines } = setup([sink], { batchMaxRecords: 1, retryMaxAttempts: 3 });
    delivery.accept(record('a', 0));
    await until(() => acks.length === 1);
    expect(sink.calls).toHaveLength(3);
    expect(lines.find((l) => l.level === 'error')?.reason).toMatch(/gave up after 3 attempts/);
  });

  it('observes delivery latency per record', async () => {
    const sink = new FakeSink('s');
    const { delivery, acks, registry } = setup([sink]);
    for (let n = 0; n < 3; n++) delivery.accept(record('a', n, { readAt: Date.now() - 2000 }));
    await until(() => acks.length === 1);
    const text = await registry.metrics();
    expect(text).toMatch(/log_sidecar_sink_delivery_latency_seconds_count\{sink="s"\} 3/);
    expect(text).toMatch(/log_sidecar_sink_delivery_latency_seconds_bucket\{le="1",sink="s"\} 0/);
    expect(text).toMatch(/log_sidecar_sink_delivery_latency_seconds_bucket\{le="2.5",sink="s"\} 3/);
  });
});

describe('DeadlineSpill', () => {
  it('says per file how far stdout took the records', async () => {
    const stdout = new PassThrough();
    const out: Buffer[] = [];
    stdout.on('data', (chunk: Buffer) => out.push(chunk));
    const spill = new DeadlineSpill(stdout);
    for (let n = 0; n < 3; n++) spill.add(record('a', n));
    spill.add(record('b', 0));
    const outcome = await spill.finish(Date.now() + 1000);
    expect(outcome).toMatchObject({ complete: true, records: 4 });
    expect(outcome.through).toEqual(
      new Map([
        ['/logs/a.log', 30],
        ['/logs/b.log', 10],
      ]),
    );
    expect(Buffer.concat(out).toString().trim().split('\n')).toHaveLength(4);
  });

  it('names what stdout did not take by the deadline', async () => {
    // A stdout nobody reads: the write callback never fires.
    const stuck = new Writable({ highWaterMark: 16, write: () => {} });
    const spill = new DeadlineSpill(stuck);
    spill.add(record('a', 0));
    const outcome = await spill.finish(Date.now() + 50);
    expect(outcome.complete).toBe(false);
    expect(outcome.records).toBe(0);
    expect(outcome.through.size).toBe(0);
    expect(outcome.reason).toMatch(/stdout did not take them before the deadline/);
  });

  it('names a failing stdout', async () => {
    const broken = new Writable({ write: (_chunk, _encoding, done) => done(new Error('EPIPE')) });
    broken.on('error', () => {});
    const spill = new DeadlineSpill(broken);
    spill.add(record('a', 0));
    const outcome = await spill.finish(Date.now() + 1000);
    expect(outcome).toMatchObject({ complete: false, records: 0, reason: 'stdout failed: EPIPE' });
  });
});
