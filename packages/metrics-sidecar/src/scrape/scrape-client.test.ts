import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScrapeClient, type ScrapeResult } from './scrape-client.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

let server: Server;
let handler: Handler;
let connections = 0;
const clients: ScrapeClient[] = [];
let url: URL;

beforeEach(async () => {
  connections = 0;
  server = createServer((request, response) => handler(request, response));
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function client(overrides: { timeoutMs?: number; bodyLimit?: number; sampleLimit?: number; url?: URL } = {}) {
  const scraper = new ScrapeClient({
    target: 'app',
    url: overrides.url ?? url,
    timeoutMs: overrides.timeoutMs ?? 2_000,
    bodyLimit: overrides.bodyLimit ?? 1024 * 1024,
    sampleLimit: overrides.sampleLimit ?? 1_000,
    userAgent: 'metrics-sidecar/test',
  });
  clients.push(scraper);
  return scraper;
}

function failure(result: ScrapeResult) {
  if (result.ok) throw new Error('expected the scrape to fail');
  return result;
}

const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

describe('ScrapeClient', () => {
  it("sends Prometheus' headers and reads gzipped OpenMetrics", async () => {
    let headers: IncomingMessage['headers'] = {};
    handler = (request, response) => {
      headers = request.headers;
      response.writeHead(200, { 'Content-Type': OPENMETRICS, 'Content-Encoding': 'gzip' });
      response.end(gzipSync('# TYPE a gauge\na 1\n# EOF\n'));
    };
    const result = await client({ timeoutMs: 2_500 }).scrape();
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.snapshot).toMatchObject({ target: 'app', format: 'openmetrics', sampleCount: 1 });
    expect(headers.accept).toBe(
      'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
    );
    expect(headers['accept-encoding']).toBe('gzip');
    expect(headers['x-prometheus-scrape-timeout-seconds']).toBe('2.5');
    expect(headers['user-agent']).toBe('metrics-sidecar/test');
  });

  it('reads text 0.0.4, and a body without Content-Type as text', async () => {
    handler = (_request, response) => response.end('a 1\n');
    const result = await client().scrape();
    expect(result.ok && result.snapshot.format).toBe('text');
  });

  it('keeps one connection alive across scrapes', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      response.end('a 1\n');
    };
    const scraper = client();
    for (let i = 0; i < 3; i++) expect((await scraper.scrape()).ok).toBe(true);
    expect(connections).toBe(1);
  });

  it('fails an HTML page with reason parse', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/html' });
      response.end('<html><body>Hello</body></html>');
    };
    expect(failure(await client().scrape())).toMatchObject({
      reason: 'parse',
      message: expect.stringMatching(/Content-Type text\/html/),
    });
  });

  it('fails a 500 with reason status', async () => {
    handler = (_request, response) => {
      response.writeHead(500);
      response.end('oops');
    };
    expect(failure(await client().scrape())).toMatchObject({
      reason: 'status',
      message: expect.stringMatching(/500/),
    });
  });

  it('fails garbage with reason parse and the line number', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      response.end('a 1\nb 2\nthis is not metrics\n');
    };
    expect(failure(await client().scrape())).toMatchObject({ reason: 'parse', line: 3 });
  });

  it('fails bytes that are not UTF-8 with reason parse', async () => {
    handler = (_request, response) =>
      response.end(Buffer.from([0x61, 0x7b, 0x62, 0x3d, 0x22, 0xff, 0x22, 0x7d, 0x20, 0x31]));
    expect(failure(await client().scrape())).toMatchObject({ reason: 'parse', message: /UTF-8/ });
  });

  it('fails a corrupt gzip body with reason parse', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'Content-Encoding': 'gzip' });
      response.end(Buffer.from('definitely not gzip'));
    };
    expect(failure(await client().scrape())).toMatchObject({ reason: 'parse', message: /gzip/ });
  });

  it('stops reading a 100 MB body at the limit, with reason body_limit', async () => {
    let written = 0;
    handler = (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, '\n');
      const write = () => {
        while (written < 100 * 1024 * 1024 && !response.destroyed) {
          written += chunk.length;
          if (!response.write(chunk)) {
            response.once('drain', write);
            return;
          }
        }
        response.end();
      };
      write();
    };
    expect(failure(await client({ bodyLimit: 1024 * 1024 }).scrape())).toMatchObject({
      reason: 'body_limit',
    });
    expect(written).toBeLessThan(100 * 1024 * 1024);
  });

  it('enforces the limit on decompressed bytes: a 100 MB gzip bomb fails with body_limit', async () => {
    const bomb = gzipSync(Buffer.alloc(100 * 1024 * 1024, '\n'));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    handler = (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' });
      response.end(bomb);
    };
    expect(failure(await client({ bodyLimit: 1024 * 1024 }).scrape())).toMatchObject({
      reason: 'body_limit',
    });
  });

  it('fails too many samples with reason sample_limit', async () => {
    handler = (_request, response) => response.end('a 1\nb 1\nc 1\n');
    expect(failure(await client({ sampleLimit: 2 }).scrape())).toMatchObject({
      reason: 'sample_limit',
      line: 3,
    });
  });

  it('fails a target that never answers with reason timeout', async () => {
    handler = () => {};
    // The handler never answers: without the 300 ms timeout the scrape would outlive the test.
    expect(failure(await client({ timeoutMs: 300 }).scrape())).toMatchObject({ reason: 'timeout' });
  });

  it('fails a body that stalls halfway with reason timeout', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      response.write('a 1\n');
    };
    expect(failure(await client({ timeoutMs: 300 }).scrape())).toMatchObject({ reason: 'timeout' });
  });

  it('fails a connection closed mid-body with reason connect', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '1000' });
      response.write('a 1\nb 2\n', () => response.socket?.destroy());
    };
    expect(failure(await client().scrape())).toMatchObject({ reason: 'connect' });
  });

  it('fails a refused connection with reason connect', async () => {
    const closed = new URL(url);
    await new Promise((resolve) => server.close(resolve));
    expect(failure(await client({ url: closed }).scrape())).toMatchObject({
      reason: 'connect',
      message: expect.stringMatching(/ECONNREFUSED/),
    });
    server.listen(0, '127.0.0.1');
  });
});
