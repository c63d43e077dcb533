import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

/**
 * The host's end of the forwarder (see forwarder.ts): one 127.0.0.1 TCP port per Pod port, each
 * connection piped into `<dir>/<port>.sock`, which the helper container in the Pod's namespace pipes on
 * to the Pod's 127.0.0.1:<port>. Any HTTP client on the host can then use `http://127.0.0.1:<local>`.
 */
export class PortForwards {
  readonly #servers: Server[];
  readonly #sockets: Set<Socket>;
  /** Pod port -> `http://127.0.0.1:<local port>`. */
  readonly urls: ReadonlyMap<number, string>;

  private constructor(servers: Server[], urls: Map<number, string>, sockets: Set<Socket>) {
    this.#servers = servers;
    this.#sockets = sockets;
    this.urls = urls;
  }

  static async open(dir: string, ports: readonly number[]): Promise<PortForwards> {
    const servers: Server[] = [];
    const urls = new Map<number, string>();
    const sockets = new Set<Socket>();
    for (const port of ports) {
      const path = join(dir, `${port}.sock`);
      const server = createServer((downstream) => {
        const upstream = connect(path);
        downstream.pipe(upstream).pipe(downstream);
        const close = () => {
          downstream.destroy();
          upstream.destroy();
        };
        for (const socket of [downstream, upstream]) {
          sockets.add(socket);
          socket.on('error', close);
          socket.on('close', () => {
            sockets.delete(socket);
            close();
          });
        }
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no TCP address for a forward');
      servers.push(server);
      urls.set(port, `http://127.0.0.1:${address.port}`);
    }
    return new PortForwards(servers, urls, sockets);
  }

  url(port: number): string {
    const url = this.urls.get(port);
    if (!url)
      throw new Error(
        `port ${port} of the Pod is not forwarded (forwarded: ${[...this.urls.keys()].join(', ')})`,
      );
    return url;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            for (const socket of this.#sockets) socket.destroy();
          }),
      ),
    );
  }
}
