import { httpSinkContract, type ReceivedRequest } from '@agent-sidecars/shared/testing';
import { describe, expect, it } from 'vitest';
import { sampleRecords } from '../../test/sample-records.js';
import { FIXTURE_ERROR_TIME, fixtureRecords, tracebackFixture } from '../../test/traceback-fixtures.js';
import { ElasticsearchFormat } from './elasticsearch-format.js';
import { HttpSink } from './http-sink.js';

const create = (url: URL, options: { requestTimeoutMs: number }) =>
  new HttpSink({
    name: 'elasticsearch',
    url: new URL('/_bulk', url),
    format: new ElasticsearchFormat({ index: 'logs-agent-%Y.%m.%d' }),
    gzip: true,
    headers: [],
    requestTimeoutMs: options.requestTimeoutMs,
    connections: 2,
  });

function bulkAnswer(request: ReceivedRequest) {
  const documents = request.body.split('\n').filter((l) => l !== '').length / 2;
  const items = Array.from({ length: documents }, () => ({ create: { status: 201, result: 'created' } }));
  return { status: 200, body: JSON.stringify({ took: 1, errors: false, items }) };
}

httpSinkContract({ batch: sampleRecords, name: 'elasticsearch', create, okAnswer: bulkAnswer });

describe('ElasticsearchFormat', () => {
  const format = new ElasticsearchFormat({ index: 'logs-agent-%Y.%m.%d' });

  it('writes create actions with the record id as _id and a dated index, ending in a newline', () => {
    expect(format.encode(sampleRecords(1, { labels: {} })).toString()).toBe(
      '{"create":{"_index":"logs-agent-2024.05.06","_id":"k1-0"}}\n' +
        '{"@timestamp":"2024-05-06T07:08:09.005Z","path":"/var/log/agent/app.log","message":"line 0 \\"quoted\\" é"}\n',
    );
  });

  it("indexes an error record at the agent's ts, with the traceback as the field fields.exc_info", () => {
    const fixture = tracebackFixture('carets');
    const [action, document] = format
      .encode(fixtureRecords('carets'))
      .toString()
      .split('\n')
      .slice(0, 2)
      .map((l) => JSON.parse(l));
    expect(action).toEqual({ create: { _index: 'logs-agent-2026.11.22', _id: '1-2-abc:0' } });
    expect(document).toEqual({
      '@timestamp': new Date(FIXTURE_ERROR_TIME).toISOString(),
      path: '/var/log/agent/requests.log',
      fields: { ...JSON.parse(fixture.errorLine), exc_info: fixture.traceback },
    });
  });

  it('reads a bulk answer item by item: 409 delivered, 429/503 retried, 400 rejected', () => {
    const records = sampleRecords(5);
    const answer = JSON.stringify({
      took: 3,
      errors: true,
      items: [
        { create: { status: 201 } },
        { create: { status: 409, error: { type: 'version_conflict_engine_exception', reason: 'exists' } } },
        { create: { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } } },
        {
          create: {
            status: 400,
            error: { type: 'mapper_parsing_exception', reason: 'failed to parse [level]' },
          },
        },
        {
          create: {
            status: 503,
            error: { type: 'unavailable_shards_exception', reason: 'primary not active' },
          },
        },
      ],
    });
    expect(format.readAccepted(answer, records)).toEqual({
      outcome: 'partial',
      retry: [2, 4],
      rejected: [{ index: 3, status: 400, reason: 'mapper_parsing_exception: failed to parse [level]' }],
    });
  });

  it('treats an answer that does not match the batch as retryable', () => {
    expect(format.readAccepted('{"errors":true,"items":[]}', sampleRecords(2))).toMatchObject({
      outcome: 'retryable',
    });
    expect(format.readAccepted('<html>', sampleRecords(2))).toMatchObject({ outcome: 'retryable' });
  });
});
