// Runs INSIDE a helper container that joins the Pod's network namespace (scripts' and tests' equivalent
// of `kubectl port-forward`): for each port, a unix socket `<dir>/<port>.sock` (a directory bind-mounted
// from the host) whose connections are piped to 127.0.0.1:<port> of the Pod. The Pod's namespace has
// loopback only, so this is how the host reaches it without any container network.
//   node forwarder.mjs <dir> <port>...
// Plain Node, no imports outside node:, so it runs on any image that has Node.
import { rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';

const [dir, ...ports] = process.argv.slice(2);
if (!dir || ports.length === 0 || ports.some((port) => !/^\d+$/.test(port))) {
  process.stderr.write('usage: forwarder.mjs <socket-dir> <port>... (ports are numbers)\n');
  process.exit(2);
}

const servers: Server[] = [];
let listening = 0;
for (const port of ports) {
  const path = join(dir, `${port}.sock`);
  rmSync(path, { force: true });
  const server = createServer((downstream) => {
    const upstream = connect(Number(port), '127.0.0.1');
    downstream.pipe(upstream).pipe(downstream);
    const close = () => {
      downstream.destroy();
      upstream.destroy();
    };
    downstream.on('error', close);
    upstream.on('error', close);
    downstream.on('close', close);
    upstream.on('close', close);
  });
  server.listen(path, () => {
    listening += 1;
    if (listening === ports.length)
      process.stderr.write(`${JSON.stringify({ msg: 'forwarding', dir, ports })}\n`);
  });
  servers.push(server);
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    for (const server of servers) server.close();
    process.exit(0);
  });
}
