import { httpSinkContract } from '@agent-sidecars/shared/testing';
import { describe, expect, it } from 'vitest';
import { sampleRecords } from '../../test/sample-records.js';
import { FIXTURE_ERROR_TIME, fixtureRecords, tracebackFixture } from '../../test/traceback-fixtures.js';
import { HttpSink } from './http-sink.js';
import { OtlpFormat } from './otlp-format.js';
import { unixNanos } from './unix-nanos.js';

const create = (url: URL, options: { requestTimeoutMs: number }) =>
  new HttpSink({
    name: 'otlp',
    url: new URL('/v1/logs', url),
    format: new OtlpFormat({ env: {} }),
    gzip: true,
    headers: [],
    requestTimeoutMs: options.requestTimeoutMs,
    connections: 2,
  });

httpSinkContract({
  batch: sampleRecords,
  name: 'otlp',
  create,
  okAnswer: () => ({ status: 200, body: '{}' }),
});

describe('OtlpFormat', () => {
  it('encodes an ExportLogsServiceRequest with k8s resource attributes, nanosecond strings and severity', () => {
    const json = '{"level":"warning","msg":"slow","ms":12,"ratio":0.5,"tags":["a"],"user":null}';
    const records = [
      ...sampleRecords(1),
      ...sampleRecords(1, { id: 'k1-20', message: json, fields: JSON.parse(json), truncated: true }),
    ];
    const format = new OtlpFormat({ env: { NODE_NAME: 'node-1', OTEL_SERVICE_NAME: 'agent' } });
    const attr = (key: string, value: string) => ({ key, value: { stringValue: value } });
    expect(JSON.parse(format.encode(records))).toEqual({
      resourceLogs: [
        {
          resource: {
            attributes: [
              attr('k8s.node.name', 'node-1'),
              attr('service.name', 'agent'),
              attr('k8s.pod.name', 'agent-0'),
              attr('k8s.namespace.name', 'prod'),
            ],
          },
          scopeLogs: [
            {
              scope: { name: 'log-sidecar' },
              logRecords: [
                {
                  timeUnixNano: '1714979289005250000',
                  observedTimeUnixNano: '1714979290000000000',
                  body: { stringValue: 'line 0 "quoted" é' },
                  attributes: [
                    attr('log.file.path', '/var/log/agent/app.log'),
                    attr('log.record.uid', 'k1-0'),
                  ],
                },
                {
                  timeUnixNano: '1714979289005250000',
                  observedTimeUnixNano: '1714979290000000000',
                  severityNumber: 13,
                  severityText: 'warning',
                  body: {
                    kvlistValue: {
                      values: [
                        { key: 'level', value: { stringValue: 'warning' } },
                        { key: 'msg', value: { stringValue: 'slow' } },
                        { key: 'ms', value: { intValue: '12' } },
                        { key: 'ratio', value: { doubleValue: 0.5 } },
                        { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'a' }] } } },
                        { key: 'user', value: {} },
                      ],
                    },
                  },
                  attributes: [
                    attr('log.file.path', '/var/log/agent/app.log'),
                    attr('log.record.uid', 'k1-20'),
                    { key: 'log.record.truncated', value: { boolValue: true } },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
  });

  it('puts a traceback in exception.stacktrace, .type and .message, and the other fields in the body', () => {
    const fixture = tracebackFixture('exception-group');
    const body = JSON.parse(new OtlpFormat({ env: {} }).encode(fixtureRecords('exception-group')));
    const [error, next] = body.resourceLogs[0].scopeLogs[0].logRecords;
    const attr = (key: string, value: string) => ({ key, value: { stringValue: value } });
    expect(error).toMatchObject({
      timeUnixNano: unixNanos(FIXTURE_ERROR_TIME),
      severityNumber: 17,
      severityText: 'error',
    });
    expect(error.attributes).toEqual([
      attr('log.file.path', '/var/log/agent/requests.log'),
      attr('log.record.uid', '1-2-abc:0'),
      attr('exception.stacktrace', fixture.traceback),
      attr('exception.type', 'ExceptionGroup'),
      attr('exception.message', '2 shards failed (2 sub-exceptions)'),
    ]);
    const keys = error.body.kvlistValue.values.map((kv: { key: string }) => kv.key);
    expect(keys).toEqual(Object.keys(JSON.parse(fixture.errorLine)));
    expect(error.body.kvlistValue.values).toContainEqual(attr('request_id', 'req-exception-group'));
    expect(next.attributes.map((a: { key: string }) => a.key)).toEqual(['log.file.path', 'log.record.uid']);
  });

  it('reports a partial success without retrying', () => {
    const seen: unknown[] = [];
    const format = new OtlpFormat({ env: {}, onPartialSuccess: (n, m) => seen.push([n, m]) });
    const answer = '{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"too old"}}';
    expect(format.readAccepted(answer)).toEqual({ outcome: 'delivered' });
    expect(seen).toEqual([[2, 'too old']]);
  });
});
