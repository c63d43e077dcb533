import { seededRandom } from '@agent-sidecars/shared/testing';
import { describe, expect, it } from 'vitest';
import { randomText } from '../test/random-text.js';
import { fixtureText, pythonGroups, TRACEBACK_CASES, tracebackFixture } from '../test/traceback-fixtures.js';
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

describe('RecordBuilder, a multiline group whose first line is a JSON object', () => {
  const grouping = new RecordBuilder('json', {}, { continuationField: 'exc_info' });
  const AGENT_TS = Date.UTC(2026, 10, 22, 10, 0, 0, 123);

  for (const name of TRACEBACK_CASES) {
    it(`${name}: keeps the line's fields and ts, with the traceback as written in exc_info`, () => {
      const fixture = tracebackFixture(name);
      const [error, next] = pythonGroups(fixture.text).map((g) =>
        grouping.build(source, g.message, g.offset, g.endOffset, g.truncated, 5),
      );
      expect(error!.fields).toEqual({ ...JSON.parse(fixture.errorLine), exc_info: fixture.traceback });
      expect(error!.fields).toMatchObject({ level: 'error', request_id: `req-${name}` });
      expect(error!.time).toBe(AGENT_TS);
      expect(error!.continuationField).toBe('exc_info');
      // One line of JSON: sinks embed it as they embed any JSON line.
      expect(error!.message).not.toContain('\n');
      expect(JSON.parse(error!.message)).toEqual(error!.fields);
      expect(error!.bytes).toBe(Buffer.byteLength(`${fixture.errorLine}\n${fixture.traceback}\n`));
      expect(next!.fields).toEqual(JSON.parse(fixture.nextLine));
      expect(next!.continuationField).toBeUndefined();
    });
  }

  it('leaves a traceback inside the JSON line (python-json-logger exc_info) as written', () => {
    const line = fixtureText('embedded-exc-info').slice(0, -1);
    const r = grouping.build(source, line, 0, line.length + 1, false, 5);
    expect(r.fields).toEqual(JSON.parse(line));
    expect(r.message).toBe(line);
    expect(r.continuationField).toBeUndefined();
    expect(r.time).toBe(Date.UTC(2026, 10, 22, 10, 0, 0, 123));
  });

  it('keeps a field of the line that has the name already, and takes exc_info_2', () => {
    const r = grouping.build(source, '{"exc_info":"mine","exc_info_2":1}\nTraceback', 0, 10, false, 5);
    expect(r.fields).toEqual({ exc_info: 'mine', exc_info_2: 1, exc_info_3: 'Traceback' });
    expect(r.continuationField).toBe('exc_info_3');
  });

  it('handles an empty object, spaces around it and a cut (truncated) traceback', () => {
    const empty = grouping.build(source, ' { } \n  more', 0, 10, true, 5);
    expect(empty.fields).toEqual({ exc_info: '  more' });
    expect(empty.truncated).toBe(true);
    expect(empty.time).toBe(5);
    const spaced = grouping.build(source, '\t{"a": 1 } \nTraceback', 0, 10, false, 5);
    expect(spaced.fields).toEqual({ a: 1, exc_info: 'Traceback' });
    expect(spaced.message.startsWith('{')).toBe(true);
  });

  it('keeps a group whose first line is not a JSON object as text, with the read time', () => {
    for (const text of ['ERROR:agent:failed\nTraceback', '[1]\nmore', '{"broken"\nmore']) {
      const r = grouping.build(source, text, 0, 10, false, 7);
      expect(r).toMatchObject({ message: text, fields: undefined, time: 7, continuationField: undefined });
    }
  });

  it('uses the field name it is given, and never splits without one or in raw mode', () => {
    const text = '{"ts":1700000000,"level":"error"}\nTraceback (most recent call last):';
    const ecs = new RecordBuilder('json', {}, { continuationField: 'error.stack_trace' });
    expect(ecs.build(source, text, 0, 10, false, 5).fields).toEqual({
      ts: 1700000000,
      level: 'error',
      'error.stack_trace': 'Traceback (most recent call last):',
    });
    for (const builder of [
      new RecordBuilder('json', {}),
      new RecordBuilder('raw', {}, { continuationField: 'x' }),
    ]) {
      const r = builder.build(source, text, 0, 10, false, 5);
      expect(r).toMatchObject({ message: text, fields: undefined, continuationField: undefined });
    }
  });

  it('json: finds the same JSON lines and times as JSON.parse and eventTime would (seeded random lines)', () => {
    const random = seededRandom(1616);
    const builder = new RecordBuilder('json', {});
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const values = [
      '1700000000.25',
      '1700000000250',
      '1.7e18',
      '-5',
      '0',
      'null',
      'true',
      '{"ts":1}',
      '[1]',
      '"2024-05-01T10:00:00.123456Z"',
      '"2024-05-01 12:00:00+0200"',
      '"1700000000"',
      '"soon"',
      '"2024-05-01T10:00:00\\u005a"',
      '"2024-05-01T10:00:00Z\\n"',
      '"2024-05-01T10:00:00Z é"',
      '"é"',
    ];
    const keys = ['"ts"', '"time"', '"timestamp"', '"t\\u0073"', '"\\u0074ime"', '"Ts"', '"msg"', '"é"'];
    for (let n = 0; n < 20_000; n++) {
      const members = Array.from({ length: Math.floor(random() * 5) }, () =>
        random() < 0.7
          ? `${pick(keys)}:${pick(values)}`
          : `${JSON.stringify(randomText(random, 3))}:${pick(values)}`,
      );
      let line = `{${members.join(random() < 0.9 ? ',' : ' , ')}}`;
      if (random() < 0.1) line = line.slice(0, -1);
      if (random() < 0.1) line = `{"nested":${line}}`;
      let expectedFields: Record<string, unknown> | undefined;
      try {
        expectedFields = JSON.parse(line) as Record<string, unknown>;
      } catch {
        expectedFields = undefined;
      }
      const record = builder.build(source, line, 0, line.length, false, 5);
      expect(record.isJson, line).toBe(expectedFields !== undefined);
      const expectedTime = expectedFields === undefined ? 5 : (eventTime(expectedFields) ?? 5);
      if (!Object.is(record.time, expectedTime))
        expect({ line, time: record.time }).toEqual({ line, time: expectedTime });
    }
  });
});
