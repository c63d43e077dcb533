import { readFileSync } from 'node:fs';
import { type Answer, HttpReceiver, waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LogSink } from '../../packages/pod-runner/src/index.js';
import { assertBuilt, cleanUp, noFastApiReason, type PodUnderTest, startPod } from './pod-fixture.js';

beforeAll(assertBuilt);
afterEach(cleanUp);

type Format = 'stdout' | 'ndjson' | 'loki' | 'elasticsearch' | 'otlp';

/** The error record as one sink format carries it, read back into the same shape for every format. */
interface ShippedError {
  readonly fields: Record<string, unknown>;
  /** The record's time, ms since the epoch. */
  readonly timeMs: number;
  /** The traceback, from the field (or the OTLP attribute) it was shipped in. */
  readonly traceback: unknown;
  /** OTLP attributes / Loki structured metadata, by key. */
  readonly extra: Record<string, string>;
}

/** What the agent wrote for one request: its JSON line and the traceback lines after it. */
function writtenByAgent(logFile: string, requestId: string) {
  const lines = readFileSync(logFile, 'utf8').split('\n');
  const at = lines.findIndex((line) => line.startsWith('{') && line.includes(`"request_id":"${requestId}"`));
  if (at < 0) return undefined;
  const end = lines.findIndex((line, i) => i > at && (line.startsWith('{') || i === lines.length - 1));
  if (end < 0) return undefined;
  const fields = JSON.parse(lines[at]!) as Record<string, unknown>;
  return { fields, traceback: lines.slice(at + 1, end).join('\n') };
}

function parseLines(body: string): Record<string, unknown>[] {
  return body
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** An OTLP AnyValue back to JSON (the agent's fields are strings, integers and doubles). */
function plain(value: Record<string, unknown>): unknown {
  if ('stringValue' in value) return value.stringValue;
  if ('intValue' in value) return Number(value.intValue);
  if ('doubleValue' in value) return value.doubleValue;
  if ('boolValue' in value) return value.boolValue;
  throw new Error(`unexpected OTLP value ${JSON.stringify(value)}`);
}

type KeyValues = { key: string; value: Record<string, unknown> }[];
const byKey = (list: KeyValues) => Object.fromEntries(list.map(({ key, value }) => [key, plain(value)]));

/** Every record a request body of `format` holds, as ShippedErrors. */
function decode(format: Exclude<Format, 'stdout'>, body: string): ShippedError[] {
  switch (format) {
    case 'ndjson':
      return parseLines(body).map((record) => {
        const fields = (record.fields ?? {}) as Record<string, unknown>;
        return { fields, timeMs: Date.parse(String(record.time)), traceback: fields.exc_info, extra: {} };
      });
    case 'elasticsearch':
      return parseLines(body)
        .filter((_, i) => i % 2 === 1)
        .map((document) => {
          const fields = (document.fields ?? {}) as Record<string, unknown>;
          const timeMs = Date.parse(String(document['@timestamp']));
          return { fields, timeMs, traceback: fields.exc_info, extra: {} };
        });
    case 'loki': {
      const { streams } = JSON.parse(body) as { streams: { values: [string, string, object?][] }[] };
      return streams.flatMap((stream) =>
        stream.values.map(([nanos, line, metadata]) => {
          const fields = JSON.parse(line) as Record<string, unknown>;
          const timeMs = Number(nanos.slice(0, -6)) + Number(nanos.slice(-6)) / 1e6;
          return { fields, timeMs, traceback: fields.exc_info, extra: { ...(metadata ?? {}) } };
        }),
      );
    }
    case 'otlp': {
      type LogRecord = {
        timeUnixNano: string;
        body: { kvlistValue?: { values: KeyValues } };
        attributes: KeyValues;
      };
      const { resourceLogs } = JSON.parse(body) as {
        resourceLogs: { scopeLogs: { logRecords: LogRecord[] }[] }[];
      };
      return resourceLogs
        .flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords))
        .map((record) => {
          const extra = byKey(record.attributes) as Record<string, string>;
          return {
            fields: byKey(record.body.kvlistValue?.values ?? []),
            timeMs: Number(record.timeUnixNano.slice(0, -6)) + Number(record.timeUnixNano.slice(-6)) / 1e6,
            traceback: extra['exception.stacktrace'],
            extra,
          };
        });
    }
  }
}

/** A 2xx the format's client reads as "every record taken". */
const OK_ANSWER: Record<Exclude<Format, 'stdout'>, Answer> = {
  ndjson: { status: 200 },
  loki: { status: 204 },
  elasticsearch: { status: 200, body: '{"took":1,"errors":false,"items":[]}' },
  otlp: { status: 200, body: '{}' },
};

async function podFor(format: Format): Promise<{ pod: PodUnderTest; shipped: () => ShippedError[] }> {
  if (format === 'stdout') {
    const pod = await startPod({ logSidecar: { sink: { kind: 'stdout' } } });
    const shipped = () =>
      pod.stdoutRecords.records().map((record) => {
        const fields = (record.fields ?? {}) as Record<string, unknown>;
        return { fields, timeMs: Date.parse(String(record.time)), traceback: fields.exc_info, extra: {} };
      });
    return { pod, shipped };
  }
  const answer = OK_ANSWER[format];
  const receiver = new HttpReceiver((_request, response) =>
    response.writeHead(answer.status, answer.headers).end(answer.body),
  );
  const url = await receiver.start();
  const sink: LogSink = { kind: 'http', url: url.href, format };
  const pod = await startPod({
    logSidecar: {
      sink,
      // Loki's structured metadata is opt-in (a Loki that does not allow it rejects the push).
      extraArgs: format === 'loki' ? ['--sink-structured-metadata', 'true'] : [],
    },
  });
  closers.push(() => receiver.close());
  return { pod, shipped: () => receiver.requests.flatMap((request) => decode(format, request.body)) };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const EXCEPTION = "RuntimeError: inference failed on purpose for input 'boom'";

describe.skipIf(noFastApiReason !== undefined)(
  "the FastAPI agent's failing request arrives as one structured record in every sink format",
  () => {
    for (const format of ['stdout', 'ndjson', 'loki', 'elasticsearch', 'otlp'] as const) {
      it(`${format}: request_id, level, the agent's ts as the time, and the traceback in its field`, async () => {
        const { pod, shipped } = await podFor(format);
        const failing = `fail-${format}`;
        const after = `after-${format}`;
        expect((await pod.client.inference(failing, 'boom', true)).status).toBe(500);
        expect((await pod.client.inference(after, 'good')).status).toBe(200);

        const find = (id: string) => shipped().find((record) => record.fields.request_id === id);
        const error = await waitFor(`the error record of ${failing} at the ${format} sink`, () =>
          find(failing),
        );
        const next = await waitFor(`the record of ${after}`, () => find(after));
        const written = writtenByAgent(pod.spec.logFile, failing);
        expect(written, 'the agent did not write the error line and its traceback').toBeDefined();
        const { fields: line, traceback } = written!;

        expect(line).toMatchObject({ level: 'error', status: 500, error: EXCEPTION });
        expect(traceback.startsWith('Traceback (most recent call last):\n')).toBe(true);
        expect(traceback.endsWith(`\n${EXCEPTION}`)).toBe(true);
        // Every field of the agent's line, the agent's own time, and the traceback exactly as written.
        expect(error.fields).toMatchObject(line);
        expect(error.timeMs).toBe(Date.parse(String(line.ts)));
        expect(error.traceback).toBe(traceback);
        if (format === 'otlp') {
          expect(error.fields.exc_info).toBeUndefined();
          expect(error.extra).toMatchObject({
            'exception.type': 'RuntimeError',
            'exception.message': "inference failed on purpose for input 'boom'",
          });
        }
        if (format === 'loki') {
          expect(error.extra).toEqual({
            exception_type: 'RuntimeError',
            exception_message: "inference failed on purpose for input 'boom'",
          });
        }
        // The request after it is a record of its own, without a traceback.
        expect(next.fields).toMatchObject({ request_id: after, level: 'info', status: 200 });
        expect(next.traceback).toBeUndefined();

        const report = await pod.pod.terminate();
        expect(report.containers.every((c) => c.exit.code === 0 && !c.killed)).toBe(true);
      });
    }
  },
);
