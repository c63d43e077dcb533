import { readFileSync } from 'node:fs';
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
 * Where this process picks ports: below the kernel's ephemeral range, which bind(0) and every outgoing
 * connection draw from. A port the kernel handed to one caller of bind(0) and that was closed again can be
 * handed to the next caller at once, so two parallel tests both got it, and the slower child (a Python
 * agent starting for a second) failed with "address already in use". Below the range only callers of
 * this function pick ports; each vitest worker (VITEST_POOL_ID) picks in its own slice, from a random start.
 */
const SLICES = 16;
const LOWEST_PORT = 10_000;
const handedOut = new Set<number>();
let nextInSlice: (() => number) | undefined | null;

function ownPorts(): (() => number) | null {
  let ephemeralLow = 32_768;
  try {
    ephemeralLow = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
  } catch {
    // Not Linux: the usual low end.
  }
  const size = Math.floor((ephemeralLow - LOWEST_PORT) / SLICES);
  if (!(size >= 100)) return null;
  const slice = Number(process.env.VITEST_POOL_ID ?? 0) % SLICES;
  const first = LOWEST_PORT + slice * size;
  let offset = Math.floor(Math.random() * size);
  return () => first + (offset++ % size);
}

/** The kernel's pick (bind to port 0). */
function kernelPort(host: string): Promise<number> {
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

/**
 * A port free now and not handed out before by this process (see `ownPorts` for where from). Another
 * process could still bind it before our child does; outside the kernel's range only another caller of
 * this function would, in another slice.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  if (nextInSlice === undefined) nextInSlice = ownPorts();
  if (nextInSlice !== null) {
    for (let attempt = 0; attempt < 200; attempt++) {
      const port = nextInSlice();
      if (handedOut.has(port)) continue;
      if (await portIsFree(port, host)) {
        handedOut.add(port);
        return port;
      }
    }
  }
  return kernelPort(host);
}

/** `preferred` when it is free (the demo's real ports :9091, :9090, :8000), else any free port. */
export async function preferredOrFreePort(
  preferred: number | undefined,
  host = '127.0.0.1',
): Promise<number> {
  if (preferred !== undefined && (await portIsFree(preferred, host))) return preferred;
  return freePort(host);
}
