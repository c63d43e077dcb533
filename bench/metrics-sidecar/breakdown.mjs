#!/usr/bin/env node
// Where a steady scrape's CPU goes, step by step, in-process (build first: `pnpm run build`):
//   node [--max-semi-space-size=1] bench/metrics-sidecar/breakdown.mjs [--rounds 60] [--runs 3]
// The 10,000-series OpenMetrics target runs in a child process (its gzip is not ours) and answers
// gzipped, as the side-by-side harness's target does. Each step is timed alone over `rounds` rounds
// (main-thread CPU from process.cpuUsage, so zlib's thread-pool work is in it as far as it is on this
// process's threads): fetch + gunzip, the scrape client's whole scrape (fetch, gunzip, decode, parse,
// validate, snapshot), the own series' collection and parse, merge + render of the served OpenMetrics body,
// its gzip (level 1). Prints the median of the runs' mean CPU ms per step.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createGunzip, gzipSync } from 'node:zlib';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '60' }, runs: { type: 'string', default: '3' } },
});
const dist = fileURLToPath(new URL('../../packages/metrics-sidecar/dist/', import.meta.url));
const shared = fileURLToPath(new URL('../../packages/shared/dist/index.js', import.meta.url));
const { ScrapeClient } = await import(`${dist}scrape/scrape-client.js`);
const { createExpositionParser } = await import(`${dist}scrape/exposition-parser.js`);
const { mergeSources } = await import(`${dist}expose/exposition-merge.js`);
const { renderOpenMetricsBody } = await import(`${dist}expose/renderer.js`);
const { createMetricsRegistry } = await import(shared);

const targetSource = `
  const { createServer } = await import('node:http');
  const { targetBody, targetHandler } = await import(${JSON.stringify(new URL('./target-body.mjs', import.meta.url).href)});
  const { gzipSync } = await import('node:zlib');
  const body = Buffer.from(targetBody());
  const server = createServer(targetHandler(body, gzipSync(body), () => {}));
  server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;
const target = spawn(process.execPath, ['--input-type=module', '-e', targetSource], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const port = await new Promise((resolve) => target.stdout.once('data', (d) => resolve(Number(String(d)))));
const url = new URL(`http://127.0.0.1:${port}/metrics`);
const rounds = Number(values.rounds);

function fetchGunzip() {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
      const gunzip = createGunzip({ chunkSize: 64 * 1024 - 64 });
      let bytes = 0;
      res.pipe(gunzip);
      gunzip.on('data', (c) => (bytes += c.length));
      gunzip.on('end', () => resolve(bytes));
      gunzip.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const client = new ScrapeClient({
  target: 'app',
  url,
  timeoutMs: 10_000,
  bodyLimit: 64 << 20,
  sampleLimit: 200_000,
  userAgent: 'breakdown',
});
let snapshot;
async function scrape() {
  const result = await client.scrape();
  if (!result.ok) throw new Error(result.message);
  snapshot = result.snapshot;
}

const registry = createMetricsRegistry('metrics_sidecar_', { eventLoopMonitoringPrecisionMs: 1000 });
const ownParser = createExpositionParser('text', { sampleLimit: Number.MAX_SAFE_INTEGER });
let ownText = '';
async function collectOwn() {
  ownText = await registry.metrics();
}
let own;
function parseOwn() {
  ownParser.reset({ sampleLimit: Number.MAX_SAFE_INTEGER });
  ownParser.push(ownText);
  own = ownParser.end();
}
let body;
function render() {
  const merged = mergeSources([
    { name: 'metrics-sidecar', families: own.families, format: 'text' },
    { name: 'app', families: snapshot.families, format: snapshot.format },
  ]);
  body = renderOpenMetricsBody(merged.families);
}
function gzip() {
  gzipSync(body, { level: 1 });
}

const steps = [
  ['fetch + gunzip (no parse)', fetchGunzip],
  ['scrape client: fetch, gunzip, decode, parse, validate, snapshot', scrape],
  ['own series: registry.metrics()', collectOwn],
  ['own series: parse', parseOwn],
  ['merge + render OpenMetrics body', render],
  ['gzip level 1 of the body', gzip],
];
const results = new Map(steps.map(([name]) => [name, []]));
await scrape();
await collectOwn();
parseOwn();
render();
for (let run = 0; run < Number(values.runs); run++) {
  for (const [name, step] of steps) {
    for (let k = 0; k < 5; k++) await step();
    const start = process.cpuUsage();
    for (let k = 0; k < rounds; k++) await step();
    const used = process.cpuUsage(start);
    results.get(name).push((used.user + used.system) / 1000 / rounds);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`body ${body.length} bytes served, ${snapshot.sampleCount} samples scraped`);
for (const [name, xs] of results) {
  console.log(
    `${median(xs).toFixed(2).padStart(7)} ms  ${name}  (runs: ${xs.map((x) => x.toFixed(2)).join(', ')})`,
  );
}
client.close();
target.kill();
