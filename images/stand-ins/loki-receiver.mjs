// STAND-IN for Loki (grafana/loki) in the private engine of scripts/container-env.sh, where no registry
// answers. It speaks the part of Loki's HTTP API the compose demo and its test use, with Loki's shapes:
//   POST /loki/api/v1/push         JSON push body (gzip or not); 204, or 400 naming what is wrong
//   GET  /loki/api/v1/query_range  ?query={label="value",...}&limit=&direction=&start=&end= (ns)
//   GET  /ready                    200 "ready"
// Entries are kept in arrival order per stream and, like Loki's storage under /loki, in a file there
// (LOKI_RECEIVER_DATA), so a stopped and started receiver still answers for what it took. Only `=`
// matchers are understood; anything else is a 400 saying so, never a silently wrong answer. Listens on
// :3100; exits 0 on SIGTERM/SIGINT.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

const PORT = Number(process.env.LOKI_RECEIVER_PORT ?? 3100);
const DATA = process.env.LOKI_RECEIVER_DATA ?? '/loki/pushes.ndjson';
/** @type {Map<string, { stream: Record<string, string>, values: [string, string][] }>} */
const streams = new Map();
let received = 0;

function log(msg, fields = {}) {
  process.stderr.write(`${JSON.stringify({ time: Date.now(), msg, ...fields })}\n`);
}

function send(res, status, body, type = 'application/json') {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function labelKey(labels) {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `{a="b", c="d"}` -> [[a, b], [c, d]]; throws with a one-line reason on anything else. */
function parseSelector(query) {
  const match = /^\s*\{(.*)\}\s*$/s.exec(query ?? '');
  if (!match)
    throw new Error(`query must be a stream selector like {job="agent"}, not ${JSON.stringify(query)}`);
  const matchers = [];
  const pattern = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!=|!~|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/gy;
  const body = match[1];
  while (pattern.lastIndex < body.length) {
    const m = pattern.exec(body);
    if (m === null) break;
    if (m[2] !== '=') throw new Error(`this Loki stand-in only understands = matchers, not ${m[2]}`);
    matchers.push([m[1], JSON.parse(`"${m[3]}"`)]);
  }
  if (pattern.lastIndex !== body.length && body.trim() !== '')
    throw new Error(`cannot parse selector ${query}`);
  if (matchers.length === 0) throw new Error('a selector needs at least one matcher, as in Loki');
  return matchers;
}

function push(body, persist = true) {
  const parsed = JSON.parse(body);
  if (!parsed || !Array.isArray(parsed.streams)) throw new Error('body must be {"streams":[...]}');
  let count = 0;
  for (const item of parsed.streams) {
    if (!item || typeof item.stream !== 'object' || !Array.isArray(item.values))
      throw new Error('each stream needs "stream" (labels) and "values"');
    const key = labelKey(item.stream);
    let stored = streams.get(key);
    if (!stored) {
      stored = { stream: item.stream, values: [] };
      streams.set(key, stored);
    }
    for (const value of item.values) {
      if (
        !Array.isArray(value) ||
        typeof value[0] !== 'string' ||
        !/^\d+$/.test(value[0]) ||
        typeof value[1] !== 'string'
      )
        throw new Error('each value must be ["<ns since epoch>", "<line>"]');
      stored.values.push([value[0], value[1]]);
      count += 1;
    }
  }
  received += count;
  // One line per accepted push, written before the 204: an acknowledged entry survives a restart.
  if (persist) appendFileSync(DATA, `${JSON.stringify(parsed)}\n`);
  return count;
}

function queryRange(params) {
  const matchers = parseSelector(params.get('query'));
  const limit = Number(params.get('limit') ?? 100);
  const forward = params.get('direction') === 'forward';
  const end = BigInt(params.get('end') ?? `${Date.now()}000000`);
  const start = BigInt(params.get('start') ?? String(end - 3_600_000_000_000n));
  const result = [];
  const entries = [];
  for (const stored of streams.values()) {
    if (!matchers.every(([name, value]) => stored.stream[name] === value)) continue;
    for (const value of stored.values) {
      const ts = BigInt(value[0]);
      if (ts >= start && ts < end) entries.push({ stream: stored.stream, value });
    }
  }
  entries.sort((a, b) =>
    BigInt(a.value[0]) < BigInt(b.value[0]) ? -1 : BigInt(a.value[0]) > BigInt(b.value[0]) ? 1 : 0,
  );
  if (!forward) entries.reverse();
  const byStream = new Map();
  for (const entry of entries.slice(0, limit)) {
    const key = labelKey(entry.stream);
    if (!byStream.has(key)) {
      const item = { stream: entry.stream, values: [] };
      byStream.set(key, item);
      result.push(item);
    }
    byStream.get(key).values.push(entry.value);
  }
  return { status: 'success', data: { resultType: 'streams', result } };
}

if (existsSync(DATA)) {
  for (const line of readFileSync(DATA, 'utf8').split('\n')) if (line) push(line, false);
  log('replayed stored pushes', { entries: received, from: DATA });
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://loki');
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    try {
      if (req.method === 'GET' && url.pathname === '/ready') return send(res, 200, 'ready\n', 'text/plain');
      if (req.method === 'POST' && url.pathname === '/loki/api/v1/push') {
        const type = req.headers['content-type'] ?? '';
        if (!type.startsWith('application/json'))
          return send(res, 415, `this Loki stand-in takes JSON pushes only, not ${type}\n`, 'text/plain');
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const count = push(body.toString('utf8'));
        log('push', { entries: count, total: received });
        res.writeHead(204);
        return res.end();
      }
      if (req.method === 'GET' && url.pathname === '/loki/api/v1/query_range')
        return send(res, 200, queryRange(url.searchParams));
      return send(res, 404, `404 page not found\n`, 'text/plain');
    } catch (error) {
      return send(res, 400, `${error instanceof Error ? error.message : String(error)}\n`, 'text/plain');
    }
  });
});

server.listen(PORT, () =>
  log('Loki stand-in (record receiver) listening', { port: PORT, args: process.argv.slice(2) }),
);
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    log('stopping', { signal, received });
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
