import { createServer } from 'node:net';

/** Whether `port` can be bound on `host` right now. */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A port the kernel considers free now. Another process could take it before our child binds it; the
 * window is a few milliseconds, and the ephemeral range is large, which is why parallel tests use this
 * instead of fixed ports.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port was assigned'))));
    });
  });
}

/** `preferred` when it is free (the demo's real ports :9091, :9090, :8000), else any free port. */
export async function preferredOrFreePort(
  preferred: number | undefined,
  host = '127.0.0.1',
): Promise<number> {
  if (preferred !== undefined && (await portIsFree(preferred, host))) return preferred;
  return freePort(host);
}
