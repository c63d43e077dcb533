import { request } from 'node:http';
import { pino } from 'pino';
import { Counter } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { Lifecycle } from '../lifecycle/lifecycle.js';
import { createMetricsRegistry } from '../metrics/metrics-registry.js';
import { HealthServer } from './health-server.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(port: number, path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const servers: HealthServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(routes?: ConstructorParameters<typeof HealthServer>[0]['routes']) {
  const logger = pino({ level: 'silent' });
  const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: 5000, exit: () => {} });
  const registry = createMetricsRegistry('test_sidecar_');
  new Counter({ name: 'test_sidecar_things_total', help: 'Things.', registers: [registry] }).inc(3);
  const server = new HealthServer({
    lifecycle,
    registry,
    logger,
    listen: { host: '127.0.0.1', port: 0 },
    routes,
  });
  servers.push(server);
  const { port } = await server.start();
  return { lifecycle, port };
}

describe('HealthServer', () => {
  it('answers /livez while starting, ready and draining', async () => {
    const { lifecycle, port } = await start();
    expect((await call(port, '/livez')).status).toBe(200);
    lifecycle.markReady();
    expect(JSON.parse((await call(port, '/livez')).body)).toEqual({ status: 'alive', state: 'ready' });
    lifecycle.addShutdownStep('hold', () => new Promise(() => {}));
    void lifecycle.shutdown('test');
    expect(JSON.parse((await call(port, '/livez')).body)).toEqual({ status: 'alive', state: 'draining' });
  });

  it('answers /readyz 200 only when ready, every check passing, and not draining', async () => {
    const { lifecycle, port } = await start();
    let discoveryRunning = false;
    lifecycle.addReadinessCheck('discovery', () => discoveryRunning);
    lifecycle.addReadinessCheck('explodes', () => {
      throw new Error('boom');
    });
    const starting = await call(port, '/readyz');
    expect(starting.status).toBe(503);
    expect(JSON.parse(starting.body)).toEqual({
      status: 'not ready',
      state: 'starting',
      checks: { discovery: 'failing', explodes: 'failing' },
    });

    const { lifecycle: other, port: otherPort } = await start();
    other.addReadinessCheck('discovery', () => discoveryRunning);
    other.markReady();
    expect((await call(otherPort, '/readyz')).status).toBe(503);
    discoveryRunning = true;
    const ready = await call(otherPort, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.headers['content-type']).toBe('application/json');
    expect(JSON.parse(ready.body)).toEqual({ status: 'ready', state: 'ready', checks: { discovery: 'ok' } });

    other.addShutdownStep('hold', () => new Promise(() => {}));
    void other.shutdown('SIGTERM');
    const draining = await call(otherPort, '/readyz');
    expect(draining.status).toBe(503);
    expect(JSON.parse(draining.body).state).toBe('draining');
    expect(lifecycle.state).toBe('starting');
  });

  it('serves its own registry with prefixed Node defaults on /metrics', async () => {
    const { port } = await start();
    const reply = await call(port, '/metrics');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(reply.body).toContain('test_sidecar_things_total 3');
    expect(reply.body).toContain('test_sidecar_process_resident_memory_bytes');
    expect(reply.body).not.toMatch(/^process_resident_memory_bytes/m);
    expect(reply.body).toContain('test_sidecar_nodejs_active_handles ');
    expect(reply.body).not.toContain('nodejs_active_handles_total');
  });

  it('answers HEAD without a body, 405 for other methods and 404 elsewhere', async () => {
    const { port } = await start();
    const head = await call(port, '/readyz', 'HEAD');
    expect(head.status).toBe(503);
    expect(head.body).toBe('');
    const post = await call(port, '/livez', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect((await call(port, '/nope')).status).toBe(404);
    expect((await call(port, '/livez?verbose=1')).status).toBe(200);
  });

  it('lets a component replace /metrics and turns a failing route into a 500', async () => {
    const { port } = await start({
      '/metrics': (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('merged 1\n');
      },
      '/broken': async () => {
        throw new Error('route failed');
      },
      '/broken-sync': () => {
        throw new Error('route failed synchronously');
      },
    });
    expect((await call(port, '/metrics')).body).toBe('merged 1\n');
    expect((await call(port, '/broken')).status).toBe(500);
    expect((await call(port, '/broken-sync')).status).toBe(500);
    expect((await call(port, '/livez')).status).toBe(200);
  });
});
