import { httpSinkContract } from '@agent-sidecars/shared/testing';
import { describe, expect, it } from 'vitest';
import { sampleRecords } from '../../test/sample-records.js';
import { FIXTURE_ERROR_TIME, fixtureRecords, tracebackFixture } from '../../test/traceback-fixtures.js';
import { HttpSink } from './http-sink.js';
import { NdjsonFormat } from './ndjson-format.js';

const create = (url: URL, options: { requestTimeoutMs: number }, gzip = true) =>
  new HttpSink({
    name: 'ndjson',
    url,
    format: new NdjsonFormat(),
    gzip,
    headers: [],
    requestTimeoutMs: options.requestTimeoutMs,
    connections: 2,
  });

httpSinkContract({
  batch: sampleRecords,
  name: 'ndjson',
  create,
  okAnswer: () => ({ status: 200, body: '' }),
});

describe('NdjsonFormat', () => {
  it('writes one JSON object a line, each ending in a newline', () => {
    const json = '{"level":"info","msg":"hi"}';
    const records = [
      ...sampleRecords(1),
      ...sampleRecords(1, { id: 'k1-20', message: json, fields: JSON.parse(json), labels: {} }),
    ];
    expect(new NdjsonFormat().encode(records).toString()).toBe(
      '{"time":"2024-05-06T07:08:09.005Z","path":"/var/log/agent/app.log","id":"k1-0","labels":{"pod":"agent-0","namespace":"prod"},"message":"line 0 \\"quoted\\" é"}\n' +
        '{"time":"2024-05-06T07:08:09.005Z","path":"/var/log/agent/app.log","id":"k1-20","fields":{"level":"info","msg":"hi"}}\n',
    );
  });

  it('writes a JSON line and its traceback as one record: its fields, its ts, the traceback in exc_info', () => {
    const fixture = tracebackFixture('chained-during-handling');
    const lines = new NdjsonFormat().encode(fixtureRecords('chained-during-handling')).toString().split('\n');
    expect(lines).toHaveLength(3);
    const error = JSON.parse(lines[0]!);
    expect(error).toEqual({
      time: new Date(FIXTURE_ERROR_TIME).toISOString(),
      path: '/var/log/agent/requests.log',
      id: '1-2-abc:0',
      fields: { ...JSON.parse(fixture.errorLine), exc_info: fixture.traceback },
    });
    expect(JSON.parse(lines[1]!).fields).toEqual(JSON.parse(fixture.nextLine));
  });
});
