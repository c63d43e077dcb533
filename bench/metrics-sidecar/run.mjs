#!/usr/bin/env node
// Benchmark of the built metrics-sidecar (run `pnpm exec tsc -b` first):
//   node bench/metrics-sidecar/run.mjs [--runs 3] [--duration 5] [--connections 8]
// A target exposes 10,000 series (~1 MB, histograms included) the way client_python does (OpenMetrics,
// gzipped when asked). Measured, median of the runs:
//   - CPU per scrape: the sidecar process' CPU time (user+sys from /proc) over a window of fast scrapes,
//     each followed by one Prometheus-style request (OpenMetrics, gzip), divided by the scrapes served;
//     so it covers fetch + gunzip + parse + validate + merge + render + gzip + serving one answer.
//   - idle RSS: VmRSS between scrapes with the 10,000-series snapshot and all four bodies cached.
//   - /metrics under load from wrk on 127.0.0.1 (text, and text with gzip), against a plain node:http
//     server answering the same bytes from memory.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { targetBody } from './target-body.mjs';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '8' },
    scrapes: { type: 'string', default: '30' },
  },
});
const RUNS = Number(values.runs);
const DURATION = Number(values.duration);
const CONNECTIONS = Number(values.connections);
const SCRAPES = Number(values.scrapes);
const MAIN = fileURLToPath(new URL('../../packages/metrics-sidecar/dist/main.js', import.meta.url));
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

function startServer(handler) {
  const server = createServer(handler);
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function get(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

function rssMiB(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]) / 1024;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch {}
    await sleep(50);
  }
  throw new Error('timed out');
}

async function startSidecar(targetUrl, interval, timeout) {
  const child = spawn(
    process.execPath,
    [
      MAIN,
      '--listen',
      '127.0.0.1:0',
      '--target',
      `app=${targetUrl}`,
      '--interval',
      interval,
      '--timeout',
      timeout,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // The listen line is at info; learn the port from a startup probe of /proc instead of logs.
  const port = await waitFor(() => listeningPort(child.pid));
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await get(`${base}/metrics`)).body.includes('agent_tokens_total'));
  return { child, base };
}

/** The TCP port a process listens on, from /proc/net/tcp and its socket inodes. */
function listeningPort(pid) {
  let inodes;
  try {
    inodes = new Set(
      spawnSync('ls', ['-l', `/proc/${pid}/fd`], { encoding: 'utf8' })
        .stdout.split('\n')
        .map((l) => /socket:\[(\d+)\]/.exec(l)?.[1])
        .filter(Boolean),
    );
  } catch {
    return undefined;
  }
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[3] === '0A' && inodes.has(f[9])) return Number.parseInt(f[1].split(':')[1], 16);
  }
  return undefined;
}

/** The limit: a plain node:http server in its own process answering the same bytes from memory. */
async function startPlainServer(text, gz) {
  const dir = mkdtempSync(join(tmpdir(), 'metrics-sidecar-bench-'));
  writeFileSync(join(dir, 'body'), text);
  writeFileSync(join(dir, 'body.gz'), gz);
  const script = `
    const { createServer } = require('node:http');
    const { readFileSync } = require('node:fs');
    const text = readFileSync(process.argv[1] + '/body');
    const gz = readFileSync(process.argv[1] + '/body.gz');
    const server = createServer((req, res) => {
      const gzip = (req.headers['accept-encoding'] || '').includes('gzip');
      res.writeHead(200, gzip
        ? { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Encoding': 'gzip', 'Content-Length': gz.length }
        : { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': text.length });
      res.end(gzip ? gz : text);
    });
    server.keepAliveTimeout = 60000;
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['-e', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (t) => {
    out += t;
  });
  const port = await waitFor(() => (out.includes('\n') ? Number(out.trim()) : undefined));
  rmSync(dir, { recursive: true, force: true });
  return { child, url: `http://127.0.0.1:${port}/metrics` };
}

function stop(child) {
  child.kill('SIGTERM');
  return new Promise((resolve) => child.on('exit', resolve));
}

async function wrk(url, headers) {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${DURATION}s`, '--latency'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  // Asynchronously: the target lives in this process and must keep answering the sidecar meanwhile.
  const child = spawn('wrk', [...args, url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (text) => {
    out += text;
  });
  await new Promise((resolve) => child.on('exit', resolve));
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p99raw = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99 = p99raw ? Number(p99raw[1]) * { us: 0.001, ms: 1, s: 1000 }[p99raw[2]] : Number.NaN;
  return { rps, p99 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const omBody = targetBody();
const omGzip = gzipSync(omBody);
let targetRequests = 0;
const target = await startServer((req, res) => {
  targetRequests++;
  const gzip = (req.headers['accept-encoding'] ?? '').includes('gzip');
  res.writeHead(200, {
    'Content-Type': 'application/openmetrics-text; version=1.0.0; charset=utf-8',
    ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
  });
  res.end(gzip ? omGzip : omBody);
});
const targetUrl = `http://127.0.0.1:${target.address().port}/metrics`;
const seriesCount = omBody.split('\n').filter((l) => l && !l.startsWith('#')).length;

const results = { cpu: [], rss: [], text: [], gzip: [], plainText: [], plainGzip: [] };
for (let run = 0; run < RUNS; run++) {
  // CPU per scrape: fast scrapes, each answered once as Prometheus would ask.
  {
    const { child, base } = await startSidecar(targetUrl, '300ms', '250ms');
    await sleep(1_000);
    const before = cpuMs(child.pid);
    const requestsBefore = targetRequests;
    const started = Date.now();
    let seen = requestsBefore;
    while (targetRequests - requestsBefore < SCRAPES) {
      if (targetRequests !== seen) {
        seen = targetRequests;
        await sleep(20);
        await get(`${base}/metrics`, {
          Accept: 'application/openmetrics-text;version=1.0.0',
          'Accept-Encoding': 'gzip',
        });
      }
      await sleep(10);
    }
    const scrapes = targetRequests - requestsBefore;
    results.cpu.push((cpuMs(child.pid) - before) / scrapes);
    if (Date.now() - started > SCRAPES * 300 * 3) console.error('warning: scrapes fell behind the interval');
    await stop(child);
  }
  // Idle RSS and load: default-like interval, every body variant rendered once.
  {
    const { child, base } = await startSidecar(targetUrl, '15s', '5s');
    for (const headers of [
      {},
      { 'Accept-Encoding': 'gzip' },
      { Accept: 'application/openmetrics-text;version=1.0.0' },
      { Accept: 'application/openmetrics-text;version=1.0.0', 'Accept-Encoding': 'gzip' },
    ]) {
      await get(`${base}/metrics`, headers);
    }
    await sleep(3_000);
    results.rss.push(rssMiB(child.pid));

    const text = (await get(`${base}/metrics`)).body;
    const gz = (await get(`${base}/metrics`, { 'Accept-Encoding': 'gzip' })).body;
    const plain = await startPlainServer(text, gz);
    results.text.push(await wrk(`${base}/metrics`, {}));
    results.plainText.push(await wrk(plain.url, {}));
    results.gzip.push(await wrk(`${base}/metrics`, { 'Accept-Encoding': 'gzip' }));
    results.plainGzip.push(await wrk(plain.url, { 'Accept-Encoding': 'gzip' }));
    results.textBytes = text.length;
    results.gzipBytes = gz.length;
    await stop(plain.child);
    await stop(child);
  }
}
target.close();
target.closeAllConnections();

// In-process breakdown of the same work on the same body, single-threaded, after warm-up.
// The sidecar's own modules under dist/ (the package has no library entry point: it ships a binary).
const { createExpositionParser } = await import(
  '../../packages/metrics-sidecar/dist/scrape/exposition-parser.js'
);
const { mergeSources } = await import('../../packages/metrics-sidecar/dist/expose/exposition-merge.js');
const { renderOpenMetricsBody, renderTextBody } = await import(
  '../../packages/metrics-sidecar/dist/expose/renderer.js'
);
function cpuOf(fn, rounds = 30) {
  for (let i = 0; i < 5; i++) fn();
  const start = process.cpuUsage();
  for (let i = 0; i < rounds; i++) fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / rounds;
}
const { gunzipSync } = await import('node:zlib');
// As the scrape client parses: chunks of the inflated body, tables sized from the previous scrape.
const omChunks = [];
for (let i = 0; i < omBody.length; i += 64 * 1024 - 64) omChunks.push(omBody.slice(i, i + 64 * 1024 - 64));
function parseChunks() {
  const parser = createExpositionParser('openmetrics', {
    sampleLimit: 200_000,
    expectedSamples: seriesCount,
  });
  for (const chunk of omChunks) parser.push(chunk);
  return parser.end();
}
const parsed = parseChunks();
const merged = mergeSources([{ name: 'app', families: parsed.families }]).families;
const renderedOm = renderOpenMetricsBody(merged);
const breakdown = {
  gunzip: cpuOf(() => gunzipSync(omGzip).toString('latin1')),
  parse: cpuOf(parseChunks),
  merge: cpuOf(() => mergeSources([{ name: 'app', families: parsed.families }])),
  renderOm: cpuOf(() => renderOpenMetricsBody(merged)),
  renderText: cpuOf(() => renderTextBody(merged)),
  gzip: cpuOf(() => gzipSync(renderedOm, { level: 1 })),
};

const cpu = median(results.cpu);
const rss = median(results.rss);
const row = (name, xs) =>
  `| ${name} | ${median(xs.map((x) => x.rps)).toFixed(0)} | ${median(xs.map((x) => x.p99)).toFixed(1)} |`;
const ratio = (a, b) => (median(a.map((x) => x.rps)) / median(b.map((x) => x.rps))).toFixed(2);
console.log(
  `Machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
);
console.log(
  `Command: node bench/metrics-sidecar/run.mjs --runs ${RUNS} --duration ${DURATION} --connections ${CONNECTIONS} --scrapes ${SCRAPES}`,
);
console.log(
  `Target: ${seriesCount} series, ${(omBody.length / 1e6).toFixed(2)} MB OpenMetrics (${(omGzip.length / 1e3).toFixed(0)} kB gzipped); served text ${(results.textBytes / 1e6).toFixed(2)} MB, gzip ${(results.gzipBytes / 1e3).toFixed(0)} kB`,
);
console.log('');
console.log('| Measure (median of runs) | Value | Target |');
console.log('|---|---|---|');
console.log(
  `| CPU per scrape (fetch + gunzip + parse + validate + render + gzip + one answer) | ${cpu.toFixed(1)} ms (runs: ${results.cpu.map((x) => x.toFixed(1)).join(', ')}) | <= 20 ms |`,
);
console.log(
  `| Idle RSS with the snapshot and all bodies cached | ${rss.toFixed(1)} MiB (runs: ${results.rss.map((x) => x.toFixed(1)).join(', ')}) | <= 70 MiB |`,
);
console.log(
  `| /metrics text, sidecar / plain node:http | ${ratio(results.text, results.plainText)}x | >= 0.9x |`,
);
console.log(
  `| /metrics gzip, sidecar / plain node:http | ${ratio(results.gzip, results.plainGzip)}x | >= 0.9x |`,
);
console.log('');
console.log('In-process breakdown (ms of CPU, this process, same body):');
console.log('');
console.log(
  '| gunzip + decode | parse + validate | merge | render OpenMetrics | render text | gzip (level 1) |',
);
console.log('|---|---|---|---|---|---|');
console.log(
  `| ${[
    breakdown.gunzip,
    breakdown.parse,
    breakdown.merge,
    breakdown.renderOm,
    breakdown.renderText,
    breakdown.gzip,
  ]
    .map((x) => x.toFixed(1))
    .join(' | ')} |`,
);
console.log('');
console.log(`wrk -t1 -c${CONNECTIONS} -d${DURATION}s --latency on 127.0.0.1:`);
console.log('');
console.log('| Server | requests/s | p99 ms |');
console.log('|---|---|---|');
console.log(row('sidecar /metrics, text', results.text));
console.log(row('plain node:http, same text body', results.plainText));
console.log(row('sidecar /metrics, gzip', results.gzip));
console.log(row('plain node:http, same gzip body', results.plainGzip));
