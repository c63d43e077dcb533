import { describe, expect, it } from 'vitest';
import { eventTime, RecordBuilder } from './record-builder.js';

const source = { fileKey: '1-2-abc', path: '/logs/a.log' };

describe('RecordBuilder', () => {
  it('json: parses an object line into fields and takes its ts (seconds)', () => {
    const r = new RecordBuilder('json', { team: 'x' }).build(
      source,
      '{"ts":1700000000.25,"msg":"hi"}',
      10,
      42,
      false,
      5,
    );
    expect(r.fields).toEqual({ ts: 1700000000.25, msg: 'hi' });
    expect(r.time).toBe(1_700_000_000_250);
    expect(r).toMatchObject({
      id: '1-2-abc:10',
      offset: 10,
      endOffset: 42,
      bytes: 32,
      labels: { team: 'x' },
      readAt: 5,
    });
  });

  it('json: keeps anything that is not an object as text only', () => {
    const b = new RecordBuilder('json', {});
    for (const line of ['plain', '[1,2]', '{broken', '"str"']) {
      const r = b.build(source, line, 0, 1, false, 7);
      expect(r.fields).toBeUndefined();
      expect(r.message).toBe(line);
      expect(r.time).toBe(7);
    }
  });

  it('raw: never parses', () => {
    const r = new RecordBuilder('raw', {}).build(source, '{"a":1}', 0, 8, false, 3);
    expect(r.fields).toBeUndefined();
  });

  it('gives the same id for the same file identity and offset', () => {
    const b = new RecordBuilder('raw', {});
    expect(b.build(source, 'x', 99, 101, false, 1).id).toBe(b.build(source, 'y', 99, 101, false, 2).id);
  });

  it('reads time, timestamp and ts in the usual shapes', () => {
    expect(eventTime({ time: '2024-05-01T10:00:00.123456Z' })).toBeCloseTo(
      Date.UTC(2024, 4, 1, 10) + 123.456,
      3,
    );
    expect(eventTime({ timestamp: '2024-05-01 10:00:00,500' })).toBe(Date.UTC(2024, 4, 1, 10) + 500);
    expect(eventTime({ ts: '2024-05-01T12:00:00+02:00' })).toBe(Date.UTC(2024, 4, 1, 10));
    expect(eventTime({ ts: 1_700_000_000_000 })).toBe(1_700_000_000_000);
    expect(eventTime({ ts: 'soon' })).toBeUndefined();
    expect(eventTime({ msg: 'x' })).toBeUndefined();
  });
});
