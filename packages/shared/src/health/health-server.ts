import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ListenAddress } from '../config/parsers.js';
import type { Lifecycle } from '../lifecycle/lifecycle.js';

export type RouteHandler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

export interface HealthServerOptions {
  readonly lifecycle: Lifecycle;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly listen: ListenAddress;
  /** Extra or replacing GET/HEAD routes by exact path, e.g. the metrics-sidecar's merged `/metrics`. */
  readonly routes?: Readonly<Record<string, RouteHandler>>;
}

/**
 * One port for the kubelet's probes and Prometheus: `/livez` (200 while the process runs, draining
 * included), `/readyz` (200 only when ready and not draining, with every check in a JSON body) and
 * `/metrics` (the component's own registry). GET and HEAD only.
 */
export class HealthServer {
  readonly #options: HealthServerOptions;
  readonly #server: Server;
  readonly #routes: Map<string, RouteHandler>;

  constructor(options: HealthServerOptions) {
    this.#options = options;
    this.#routes = new Map<string, RouteHandler>([
      [
        '/livez',
        (req, res) => this.#json(req, res, 200, { status: 'alive', state: options.lifecycle.state }),
      ],
      ['/readyz', (req, res) => this.#readyz(req, res)],
      ['/metrics', (req, res) => this.#metrics(req, res)],
      ...Object.entries(options.routes ?? {}),
    ]);
    this.#server = createServer((req, res) => this.#handle(req, res));
    // Probes and Prometheus keep connections alive; a short idle timeout keeps shutdown quick.
    this.#server.keepAliveTimeout = 5_000;
  }

  /** Binds the port; resolves with the bound address (port 0 picks a free one). */
  start(): Promise<AddressInfo> {
    const { host, port } = this.#options.listen;
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.#server.once('error', onError);
      this.#server.listen(port, host, () => {
        this.#server.off('error', onError);
        const address = this.#server.address() as AddressInfo;
        this.#options.logger.info(
          { address: address.address, port: address.port },
          'Health server listening.',
        );
        resolve(address);
      });
    });
  }

  /** Stops accepting, lets in-flight responses finish, and drops idle keep-alive connections. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) {
        resolve();
        return;
      }
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
    });
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const route = this.#routes.get(path);
    if (!route) {
      this.#text(request, response, 404, 'not found\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      this.#text(request, response, 405, 'method not allowed\n');
      return;
    }
    // A route may be synchronous (the hot /metrics path allocates no promise) or async; a failure of
    // either kind answers 500 instead of escaping as an uncaught exception.
    let result: void | Promise<void>;
    try {
      result = route(request, response);
    } catch (error) {
      this.#routeFailed(error, path, request, response);
      return;
    }
    if (result !== undefined)
      result.catch((error: unknown) => this.#routeFailed(error, path, request, response));
  }

  #routeFailed(error: unknown, path: string, request: IncomingMessage, response: ServerResponse): void {
    this.#options.logger.error({ err: error, path }, 'Health server route failed.');
    if (!response.headersSent) this.#text(request, response, 500, 'internal error\n');
    else response.destroy();
  }

  #readyz(request: IncomingMessage, response: ServerResponse): void {
    const report = this.#options.lifecycle.readiness();
    this.#json(request, response, report.ready ? 200 : 503, {
      status: report.ready ? 'ready' : 'not ready',
      state: report.state,
      checks: report.checks,
    });
  }

  async #metrics(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await this.#options.registry.metrics();
    response.writeHead(200, { 'Content-Type': this.#options.registry.contentType });
    response.end(request.method === 'HEAD' ? undefined : body);
  }

  #json(request: IncomingMessage, response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    response.end(request.method === 'HEAD' ? undefined : `${JSON.stringify(body)}\n`);
  }

  #text(request: IncomingMessage, response: ServerResponse, status: number, body: string): void {
    response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
    response.end(request.method === 'HEAD' ? undefined : body);
  }
}
