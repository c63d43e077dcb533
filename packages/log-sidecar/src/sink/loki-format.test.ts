import { HttpReceiver, httpSinkContract } from '@agent-sidecars/shared/testing';
import { describe, expect, it } from 'vitest';
import { sampleRecords } from '../../test/sample-records.js';
import { FIXTURE_ERROR_TIME, fixtureRecords, tracebackFixture } from '../../test/traceback-fixtures.js';
import { HttpSink } from './http-sink.js';
import { LokiFormat } from './loki-format.js';
import { unixNanos } from './unix-nanos.js';

const create = (url: URL, options: { requestTimeoutMs: number }) =>
  new HttpSink({
    name: 'loki',
    url: new URL('/loki/api/v1/push', url),
    format: new LokiFormat({ labelFields: ['level'] }),
    gzip: true,
    headers: [],
    requestTimeoutMs: options.requestTimeoutMs,
    tenant: 'team-a',
    connections: 2,
  });

httpSinkContract({ batch: sampleRecords, name: 'loki', create, okAnswer: () => ({ status: 204, body: '' }) });

describe('LokiFormat', () => {
  it('groups records into streams by label set with nanosecond string timestamps, in time order', () => {
    const info = '{"level":"info","msg":"a"}';
    const error = '{"level":"error","msg":"b"}';
    const [first, second, third] = sampleRecords(3);
    const records = [
      { ...first!, message: info, fields: JSON.parse(info) },
      { ...second!, message: error, fields: JSON.parse(error) },
      { ...third!, message: info, fields: JSON.parse(info), time: first!.time - 1 },
    ];
    expect(new LokiFormat({ labelFields: ['level'] }).encode(records)).toBe(
      '{"streams":[' +
        '{"stream":{"filename":"/var/log/agent/app.log","level":"info","namespace":"prod","pod":"agent-0"},' +
        '"values":[["1714979289004250000","{\\"level\\":\\"info\\",\\"msg\\":\\"a\\"}"],["1714979289005250000","{\\"level\\":\\"info\\",\\"msg\\":\\"a\\"}"]]},' +
        '{"stream":{"filename":"/var/log/agent/app.log","level":"error","namespace":"prod","pod":"agent-0"},' +
        '"values":[["1714979289006250000","{\\"level\\":\\"error\\",\\"msg\\":\\"b\\"}"]]}]}',
    );
  });

  it('posts to the push path with the tenant header', async () => {
    const receiver = new HttpReceiver((_req, res) => res.writeHead(204).end());
    const url = await receiver.start();
    const sink = create(url, { requestTimeoutMs: 5000 });
    expect(await sink.send(sampleRecords(1), new AbortController().signal)).toMatchObject({
      outcome: 'delivered',
    });
    const request = receiver.requests[0]!;
    expect(request.url).toBe('/loki/api/v1/push');
    expect(request.headers['x-scope-orgid']).toBe('team-a');
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request.body).streams[0].values[0]).toEqual([
      '1714979289005250000',
      'line 0 "quoted" é',
    ]);
    await sink.close();
    await receiver.close();
  });

  it("sends an error record as one JSON line with the traceback in exc_info, at the agent's ts", () => {
    const fixture = tracebackFixture('chained-direct-cause');
    const body = JSON.parse(
      new LokiFormat({ labelFields: [] }).encode(fixtureRecords('chained-direct-cause')),
    );
    const [error, next] = body.streams[0].values;
    expect(error).toHaveLength(2);
    expect(error[0]).toBe(unixNanos(FIXTURE_ERROR_TIME));
    expect(JSON.parse(error[1])).toEqual({ ...JSON.parse(fixture.errorLine), exc_info: fixture.traceback });
    expect(next).toEqual([unixNanos(Date.UTC(2026, 10, 22, 10, 0, 1, 500)), fixture.nextLine]);
  });

  it('with structuredMetadata, attaches exception_type and exception_message to the error entry only', () => {
    const format = new LokiFormat({ labelFields: [], structuredMetadata: true });
    const [error, next] = JSON.parse(format.encode(fixtureRecords('chained-direct-cause'))).streams[0].values;
    expect(error[2]).toEqual({
      exception_type: 'LookupError',
      exception_message: 'bad batch size in config',
    });
    expect(next).toHaveLength(2);
  });
});
