import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { sampleRecords } from '../../test/sample-records.js';
import type { LogRecord } from '../record.js';
import type { BufferPool } from './buffer-pool.js';
import { HttpSink } from './http-sink.js';
import { NdjsonFormat } from './ndjson-format.js';
import type { WireFormat } from './wire-format.js';

const never = new AbortController().signal;

/** Batches of distinct content, large enough (~3 MB of body) that a write outlasts the socket's buffer. */
function batch(n: number, count = 24_000): LogRecord[] {
  return sampleRecords(count, {}).map((record, i) => ({
    ...record,
    message: `batch ${n} line ${i} ${'x'.repeat((n * 7 + i) % 90)} "q" é`,
  }));
}

/** NdjsonFormat that notes the memory of every body it encodes into. */
class WatchedFormat implements WireFormat {
  readonly name = 'ndjson';
  readonly contentType = 'application/x-ndjson';
  readonly memories: ArrayBufferLike[] = [];
  readonly #inner = new NdjsonFormat();
  encode(records: readonly LogRecord[], pool?: BufferPool): Buffer {
    const body = this.#inner.encode(records, pool);
    this.memories.push(body.buffer);
    return body;
  }
}

describe('HttpSink request bodies used again', () => {
  let server: Server | undefined;
  const sinks: HttpSink[] = [];
  afterEach(async () => {
    for (const s of sinks.splice(0)) await s.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  /** A receiver that starts reading each body only after a while, so the sender's writes stay queued. */
  async function slowReceiver(bodies: Buffer[]): Promise<URL> {
    server = createServer((req, res) => {
      req.pause();
      setTimeout(() => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          bodies.push(Buffer.concat(chunks));
          res.end('{}');
        });
        req.resume();
      }, 60);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  }

  it('sends every body byte for byte while bodies are reused, with requests queued and in flight', async () => {
    const received: Buffer[] = [];
    const url = await slowReceiver(received);
    const format = new WatchedFormat();
    const sink = new HttpSink({
      name: 'ndjson',
      url,
      format,
      gzip: false,
      headers: [],
      requestTimeoutMs: 30_000,
      connections: 2,
    });
    sinks.push(sink);
    const batches = Array.from({ length: 8 }, (_, n) => batch(n));
    const expected = batches.map((records) => new NdjsonFormat().encode(records));
    // Two rounds of four at once: more requests than connections, so some bodies wait in the agent.
    for (const round of [batches.slice(0, 4), batches.slice(4)]) {
      const results = await Promise.all(round.map((records) => sink.send(records, never)));
      for (const result of results) expect(result.outcome).toBe('delivered');
    }
    // And one at a time, where each body can take the memory of the one before.
    for (const records of batches.slice(0, 3))
      expect((await sink.send(records, never)).outcome).toBe('delivered');
    const want = [...expected, ...expected.slice(0, 3)];
    expect(received).toHaveLength(want.length);
    // Compared by digest: a diff of megabytes of text would not help anyone.
    const digests = (list: Buffer[]) => list.map((b) => createHash('sha256').update(b).digest('hex')).sort();
    expect(digests(received)).toEqual(digests(want));
    // The test means something only if memory was in fact used again.
    expect(new Set(format.memories).size).toBeLessThan(format.memories.length);
  });
});
