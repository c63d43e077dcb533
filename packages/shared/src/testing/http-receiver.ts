import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  /** The body as sent (maybe gzip). */
  readonly raw: Buffer;
  /** The body, gunzipped when Content-Encoding says gzip. */
  readonly body: string;
}

export type ReceiverHandler = (request: ReceivedRequest, response: ServerResponse) => void;

/** One scripted answer of {@link answering}. */
export interface Answer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/**
 * A handler giving `script`'s answers in order (e.g. 503, then 429 with Retry-After, then 413), then
 * `otherwise` for every later request.
 */
export function answering(script: readonly Answer[], otherwise: Answer = { status: 200 }): ReceiverHandler {
  let next = 0;
  return (_request, response) => {
    const answer = script[next++] ?? otherwise;
    response.writeHead(answer.status, answer.headers).end(answer.body);
  };
}

/**
 * A real HTTP server on 127.0.0.1, port 0, recording every request, for sink tests and the end-to-end
 * tests of the HTTP sinks. The handler decides the answer (or not to answer, or to cut the connection);
 * 200 with an empty body by default.
 */
export class HttpReceiver {
  readonly requests: ReceivedRequest[] = [];
  private server: Server | undefined;
  private handler: ReceiverHandler;

  constructor(handler: ReceiverHandler = answering([])) {
    this.handler = handler;
  }

  setHandler(handler: ReceiverHandler): void {
    this.handler = handler;
  }

  /** Listens on `port` (0: any free one); restarting on the same port simulates a backend outage. */
  async start(port = 0): Promise<URL> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString() : raw.toString();
        const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, raw, body };
        this.requests.push(request);
        this.handler(request, res);
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const bound = (server.address() as AddressInfo).port;
    return new URL(`http://127.0.0.1:${bound}/`);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
