import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../polling/wait-for.js';
import { answering, HttpReceiver, type ReceivedRequest } from './http-receiver.js';

/** The part of a sink the contract drives: `send` resolves with the driver's outcome, never rejects. */
export interface ContractSink<B> {
  send(batch: B, signal: AbortSignal): Promise<unknown>;
  close(): Promise<void>;
}

export interface HttpSinkTarget<B> {
  /** e.g. `loki`. */
  readonly name: string;
  create(url: URL, options: { requestTimeoutMs: number; tokenFile?: string }): ContractSink<B>;
  /** What a successful answer looks like for this backend (the bulk response for Elasticsearch). */
  okAnswer(request: ReceivedRequest): { status: number; body: string };
  /** A batch of `count` records in the sink's input type. */
  batch(count: number): B;
}

const never = new AbortController().signal;

/**
 * The behaviour every HTTP sink shares, against a real node:http server on port 0: each answer the
 * delivery driver must tell apart, and the connection failures it must survive. A sink passes by
 * classifying correctly and by always resolving, never rejecting.
 */
export function httpSinkContract<B>(target: HttpSinkTarget<B>): void {
  describe(`${target.name} sink contract`, () => {
    const receiver = new HttpReceiver();
    const sinks: ContractSink<B>[] = [];
    const start = async (timeoutMs = 5000) => {
      const url = await receiver.start();
      const sink = target.create(url, { requestTimeoutMs: timeoutMs });
      sinks.push(sink);
      return sink;
    };
    afterEach(async () => {
      for (const sink of sinks.splice(0)) await sink.close();
      await receiver.close();
      receiver.requests.splice(0);
    });

    it('is delivered on a 2xx answer, gzip by default', async () => {
      receiver.setHandler((req, res) => {
        const ok = target.okAnswer(req);
        res.writeHead(ok.status, { 'content-type': 'application/json' }).end(ok.body);
      });
      const sink = await start();
      const result = await sink.send(target.batch(3), never);
      expect(result).toMatchObject({ outcome: 'delivered' });
      expect(receiver.requests.length).toBe(1);
      expect(receiver.requests[0]!.method).toBe('POST');
      expect(receiver.requests[0]!.headers['content-encoding']).toBe('gzip');
    });

    it('is retryable on 429 and carries Retry-After', async () => {
      receiver.setHandler(answering([], { status: 429, headers: { 'retry-after': '7' }, body: 'slow down' }));
      const result = await (await start()).send(target.batch(1), never);
      expect(result).toEqual({
        outcome: 'retryable',
        status: 429,
        reason: 'HTTP 429: slow down',
        retryAfterMs: 7000,
      });
    });

    it('is retryable on 503 and 408 but rejected on 501', async () => {
      receiver.setHandler(answering([{ status: 503 }, { status: 408 }, { status: 501 }]));
      const sink = await start();
      expect(await sink.send(target.batch(1), never)).toMatchObject({ outcome: 'retryable', status: 503 });
      expect(await sink.send(target.batch(1), never)).toMatchObject({ outcome: 'retryable', status: 408 });
      expect(await sink.send(target.batch(1), never)).toMatchObject({ outcome: 'rejected', status: 501 });
    });

    it('is too-large on 413', async () => {
      receiver.setHandler(answering([], { status: 413 }));
      expect(await (await start()).send(target.batch(2), never)).toMatchObject({
        outcome: 'too-large',
        status: 413,
      });
    });

    it('is rejected on 400 with the answer in the reason', async () => {
      receiver.setHandler((_req, res) => res.writeHead(400).end('{"error":"bad\nline"}'));
      const result = await (await start()).send(target.batch(1), never);
      expect(result).toEqual({ outcome: 'rejected', status: 400, reason: 'HTTP 400: {"error":"bad line"}' });
    });

    it('is retryable when the server does not answer within the request timeout', async () => {
      receiver.setHandler(() => {});
      const started = Date.now();
      const result = await (await start(300)).send(target.batch(1), never);
      expect(result).toMatchObject({ outcome: 'retryable' });
      expect((result as { reason: string }).reason).toMatch(/within 300 ms/);
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('is retryable when the connection closes mid-request', async () => {
      receiver.setHandler((_req, res) => res.socket?.destroy());
      const result = await (await start()).send(target.batch(1), never);
      expect(result).toMatchObject({ outcome: 'retryable' });
    });

    it('is retryable when nothing listens', async () => {
      const url = await receiver.start();
      await receiver.close();
      const sink = target.create(url, { requestTimeoutMs: 2000 });
      sinks.push(sink);
      const result = await sink.send(target.batch(1), never);
      expect(result).toMatchObject({ outcome: 'retryable' });
      expect((result as { reason: string }).reason).toMatch(/ECONNREFUSED/);
    });

    it('resolves at once when the driver aborts', async () => {
      receiver.setHandler(() => {});
      const sink = await start(60_000);
      const controller = new AbortController();
      const pending = sink.send(target.batch(1), controller.signal);
      await waitFor('the request to arrive', () => receiver.requests.length > 0, { intervalMs: 5 });
      const aborted = Date.now();
      controller.abort();
      expect(await pending).toMatchObject({ outcome: 'retryable' });
      expect(Date.now() - aborted).toBeLessThan(2000);
    });
  });
}
