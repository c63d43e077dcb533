import { seededRandom } from '@agent-sidecars/shared/testing';
import { describe, expect, it } from 'vitest';
import { randomBytes, randomText } from '../../test/random-text.js';
import { sampleRecords } from '../../test/sample-records.js';
import type { LogRecord } from '../record.js';
import { RecordBuilder } from '../record-builder.js';
import { BufferPool } from './buffer-pool.js';
import { RecordLineEncoder } from './record-line-encoder.js';

const LABELS: Record<string, string>[] = [
  {},
  { pod: 'agent-0', namespace: 'prod' },
  { 'a"b': 'c\\d\n', é: '😀' },
  // Larger than a short line's share of the buffer: the room made for each record must count them.
  Object.fromEntries(Array.from({ length: 30 }, (_, n) => [`label-${n}`, '\u0001"é'.repeat(20)])),
];
const PATHS = [
  '/var/log/agent/app.log',
  '/logs/"quoted"\\.log',
  '/logs/é\u2028.log',
  `/${'p\\'.repeat(2000)}`,
];
const KEYS = ['64768-1234-9f3a', 'k"1\\', '1-2-中', `"${'k'.repeat(3000)}`];
const TIMES = [
  Date.UTC(2024, 4, 6, 7, 8, 9, 5) + 0.25,
  Date.UTC(2024, 4, 6, 7, 8, 10, 999),
  0,
  Date.UTC(12000, 0, 1), // a year ISO writes with six digits: not cached
  -1,
];

/** A JSON object line, a JSON-looking line that is not valid, or random text. */
function randomLine(random: () => number): string {
  const pick = random();
  if (pick < 0.3) {
    return JSON.stringify({
      ts: 1_763_700_000 + random(),
      msg: randomText(random, 8),
      n: Math.floor(random() * 9),
    });
  }
  if (pick < 0.4) return `{"msg":"${randomText(random, 5)}`;
  if (pick < 0.55) return randomBytes(random).toString('utf8');
  if (pick < 0.6) return `{"a":1}\r`;
  return randomText(random);
}

function randomRecords(random: () => number, count: number): LogRecord[] {
  const records: LogRecord[] = [];
  const builders = LABELS.map((labels) => [
    new RecordBuilder('json', labels),
    new RecordBuilder('raw', labels),
    new RecordBuilder('json', labels, { continuationField: 'exc_info' }),
  ]);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  for (let n = 0; n < count; n++) {
    const line = random() < 0.1 ? `${randomLine(random)}\n${randomText(random, 6)}` : randomLine(random);
    const offset = random() < 0.05 ? 2 ** 40 + n : n * 300;
    const record = pick(pick(builders)).build(
      { fileKey: pick(KEYS), path: pick(PATHS) },
      line,
      offset,
      offset + 300,
      random() < 0.1,
      pick(TIMES) + Math.floor(random() * 3000),
    );
    records.push(record);
  }
  return records;
}

function expectSameAsLines(
  encoder: RecordLineEncoder,
  reference: RecordLineEncoder,
  records: LogRecord[],
  before?: (record: LogRecord) => string,
  pool?: BufferPool,
) {
  const bytes = encoder.bytes(records, before, pool);
  const expected = Buffer.from(
    before === undefined
      ? reference.lines(records)
      : records.map((record) => `${before(record)}${reference.line(record)}\n`).join(''),
    'utf8',
  );
  if (!bytes.equals(expected)) {
    const got = bytes.toString().split('\n');
    const want = expected.toString().split('\n');
    const at = want.findIndex((line, i) => line !== got[i]);
    expect(got[at]).toBe(want[at]);
    // Bytes that differ but decode alike (invalid UTF-8 against U+FFFD) fail here.
    expect(bytes.equals(expected)).toBe(true);
  }
  for (const line of bytes.toString('utf8').split('\n').slice(0, -1))
    expect(() => JSON.parse(line)).not.toThrow();
  // Given back dirty: the next batch is written over what this one left.
  pool?.give(bytes);
}

describe('RecordLineEncoder.bytes', () => {
  it('writes the same bytes as lines() for random records of every kind (seeded), into reused buffers too', () => {
    const random = seededRandom(1616);
    // A small pool (one buffer, 64 KiB at most): batches reuse, outgrow and drop its buffers.
    const pools = [undefined, new BufferPool(1, 64 * 1024), new BufferPool(3, 64 * 1024 * 1024)];
    for (const [options, pool] of pools.flatMap((p) =>
      [{}, { timeField: '@timestamp', includeId: false }].map((o) => [o, p] as const),
    )) {
      // One encoder over many batches: its caches (second, path, file key, labels) carry across.
      const encoder = new RecordLineEncoder(options);
      for (let batch = 0; batch < 60; batch++) {
        const records = randomRecords(random, 1 + Math.floor(random() * 80));
        // Elasticsearch writes an action line before each record's.
        const before =
          batch % 2 === 0 ? undefined : (record: LogRecord) => `{"_id":${JSON.stringify(record.id)}}\n`;
        expectSameAsLines(encoder, new RecordLineEncoder(options), records, before, pool);
      }
    }
  });

  it("writes records that are not the builder's (their own id, fields given as an object) as lines() does", () => {
    const records = [
      ...sampleRecords(3),
      ...sampleRecords(2, { id: 'odd "id"', fields: { a: 1 }, message: '{"a": 1}\r', isJson: true }),
      ...sampleRecords(1, { fields: { b: [1, 'x'] }, message: 'not json' }),
    ];
    expectSameAsLines(new RecordLineEncoder(), new RecordLineEncoder(), records);
    expectSameAsLines(
      new RecordLineEncoder({ includeId: false }),
      new RecordLineEncoder({ includeId: false }),
      records,
    );
  });

  it('grows its buffer for large labels, a long path and a long file key on short lines', () => {
    const labels = Object.fromEntries(Array.from({ length: 40 }, (_, n) => [`label-${n}`, 'v"'.repeat(50)]));
    const builder = new RecordBuilder('raw', labels);
    const sources = [
      { fileKey: 'k', path: '/p' },
      { fileKey: 'k'.repeat(3000), path: `/${'p'.repeat(3000)}` },
    ];
    const records = Array.from({ length: 50 }, (_, n) =>
      builder.build(sources[n < 25 ? 0 : 1]!, 'x', n, n + 2, n % 2 === 0, 1),
    );
    expectSameAsLines(new RecordLineEncoder(), new RecordLineEncoder(), records);
    expectSameAsLines(
      new RecordLineEncoder({ includeId: false }),
      new RecordLineEncoder({ includeId: false }),
      records,
    );
  });

  it('grows its buffer for a batch of long lines that need escaping', () => {
    const builder = new RecordBuilder('raw', {});
    const records = Array.from({ length: 5 }, (_, n) =>
      builder.build({ fileKey: 'k', path: '/p' }, '\u0001"'.repeat(40_000 + n), n, n + 1, false, 1),
    );
    expectSameAsLines(new RecordLineEncoder(), new RecordLineEncoder(), records);
    // Into a pooled buffer that held other bytes, grown (and the smaller one given back) on the way.
    const pool = new BufferPool(2, 1 << 30);
    const dirty = pool.take(300_000).fill(0x41);
    pool.give(dirty);
    expectSameAsLines(new RecordLineEncoder(), new RecordLineEncoder(), records, undefined, pool);
    expectSameAsLines(new RecordLineEncoder(), new RecordLineEncoder(), records.slice(2), undefined, pool);
  });
});
