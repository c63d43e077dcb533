// Writes the benchmark input: N JSON lines of about 200 bytes, like a FastAPI agent's request log.
import { createWriteStream } from 'node:fs';

const [path, countText = '2000000'] = process.argv.slice(2);
if (!path) {
  console.error('usage: node make-file.mjs <path> [lines]');
  process.exit(2);
}
const count = Number(countText);
const out = createWriteStream(path);
const routes = ['/v1/chat', '/v1/embed', '/healthz', '/v1/tools/search'];
let i = 0;
function write() {
  let ok = true;
  while (i < count && ok) {
    const line = JSON.stringify({
      ts: 1_763_700_000 + i / 1000,
      level: i % 50 === 0 ? 'warning' : 'info',
      logger: 'agent.http',
      msg: 'request finished',
      method: 'POST',
      path: routes[i % routes.length],
      status: 200,
      duration_ms: (i % 997) / 10,
      request_id: `req-${(i * 2654435761) % 4294967296}`,
      seq: i,
    });
    ok = out.write(`${line}\n`);
    i++;
  }
  if (i < count) out.once('drain', write);
  else out.end();
}
write();
