// Benchmark: log-sidecar to the ndjson HTTP sink on a counting receiver on loopback.
//   node bench/log-sidecar-http/run.mjs [lines=2000000]   (BENCH_REPEAT=3 for medians of 3, the default)
// 1. Cold file: lines/s, MiB/s, CPU s, peak RSS, for --format json|raw x gzip off|on.
// 2. Steady 10,000 lines/s for 20 s: CPU % of one core, write-to-receiver latency p50/p99.
// 3. Outage: the receiver down for 20 s while 2,000 lines/s are written (and, in the second variant,
//    a 30 MiB file with a 4 MiB buffer): RSS before and during the outage, VmHWM, catch-up time.
//    These bounds were asserted inside log-sidecar/test/http-delivery.test.ts and
//    test/e2e/pod-sink-outage.e2e.test.ts; the tests keep the no-loss assertions.
// 4. A 1 GiB line without a newline cut at --max-line-bytes 64KiB: VmHWM (was asserted in
//    log-sidecar/test/bad-input.test.ts).
// 5. Catch-up (issue 11 part 5): 10,000 lines/s throughout; the receiver goes away for BENCH_OUTAGE s
//    (default 60), then comes back on the same port; peak RSS during the outage and while catching up,
//    and the catch-up time.
// BENCH_ONLY=cold|steady|outage|huge-line|catchup runs one part. Build first (pnpm exec tsc -b).
// Figures go to RESULTS.md by hand.
import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(root, 'packages/log-sidecar/dist/main.js');
const LINES = Number(process.argv[2] ?? 2_000_000);
const TICKS = 100; // USER_HZ on Linux

function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime + stime, seconds
}
function peakRss(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)[1]) * 1024;
}
function rssNow(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
}
const MiB = 1024 * 1024;

/** Counts NDJSON lines; optionally reads a write time out of each and records the latency. */
function receiver(onLine, port = 0) {
  let count = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      if (onLine) {
        const now = Date.now();
        for (const line of body.toString().split('\n')) if (line) onLine(line, now);
      }
      let n = 0;
      for (let i = body.indexOf(10); i !== -1; i = body.indexOf(10, i + 1)) n++;
      count += n;
      res.writeHead(200).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${server.address().port}/`, count: () => count }),
    ),
  );
}

function startSidecar(dir, file, url, extra) {
  return spawn(
    process.execPath,
    [
      // BENCH_NODE_FLAGS: V8 flags for the sidecar, e.g. "--max-semi-space-size=4" (as an image would pass).
      ...(process.env.BENCH_NODE_FLAGS ? process.env.BENCH_NODE_FLAGS.split(' ') : []),
      MAIN,
      '--path',
      file,
      '--checkpoint-dir',
      join(dir, 'ckpt'),
      '--listen',
      '127.0.0.1:0',
      '--sink',
      'http',
      '--sink-url',
      url,
      ...(process.env.BENCH_EXTRA ? process.env.BENCH_EXTRA.split(' ') : []),
      ...extra,
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { PATH: process.env.PATH, LOG_SIDECAR_LOG_LEVEL: 'warn' },
    },
  );
}

/** SIGTERM the sidecar and wait for it, close the receiver, remove the temp dir. */
async function finish(child, r, dir) {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  r.server.close();
  rmSync(dir, { recursive: true, force: true });
}

async function until(check, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function cold(file, bytes, format, gzip) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-http-'));
  const r = await receiver();
  let rssPeak = 0;
  const started = process.hrtime.bigint();
  const child = startSidecar(dir, file, r.url, ['--format', format, '--sink-gzip', String(gzip)]);
  const sampler = setInterval(() => {
    try {
      rssPeak = Math.max(rssPeak, peakRss(child.pid));
    } catch {}
  }, 50);
  await until(() => r.count() >= LINES, 600_000);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = procStat(child.pid);
  rssPeak = Math.max(rssPeak, peakRss(child.pid));
  clearInterval(sampler);
  await finish(child, r, dir);
  return {
    format,
    gzip,
    seconds: seconds.toFixed(2),
    linesPerSecond: Math.round(LINES / seconds),
    mibPerSecond: (bytes / 1024 / 1024 / seconds).toFixed(1),
    cpuSeconds: cpu.toFixed(2),
    peakRssMiB: (rssPeak / 1024 / 1024).toFixed(1),
  };
}

async function steady(batchTimeoutMs) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-http-steady-'));
  const file = join(dir, 'app.log');
  writeFileSync(file, '');
  const latencies = [];
  const r = await receiver((line, now) => {
    const m = /"wt":(\d+)/.exec(line);
    if (m) latencies.push(now - Number(m[1]));
  });
  const child = startSidecar(dir, file, r.url, [
    '--format',
    'json',
    '--batch-timeout',
    `${batchTimeoutMs}ms`,
  ]);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const pad = 'x'.repeat(120);
  let seq = 0;
  const writeTick = () => {
    const wt = Date.now();
    let chunk = '';
    for (let i = 0; i < 100; i++)
      chunk += `{"ts":${wt / 1000},"level":"info","msg":"request finished","wt":${wt},"seq":${seq++},"pad":"${pad}"}\n`;
    appendFileSync(file, chunk);
  };
  // 100 lines every 10 ms = 10,000 lines/s; warm up 3 s, then measure 20 s.
  const timer = setInterval(writeTick, 10);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  latencies.length = 0;
  const cpu0 = procStat(child.pid);
  const t0 = Date.now();
  const written0 = seq;
  await new Promise((resolve) => setTimeout(resolve, 20_000));
  const cpu1 = procStat(child.pid);
  const elapsed = (Date.now() - t0) / 1000;
  const written = seq - written0;
  clearInterval(timer);
  await new Promise((resolve) => setTimeout(resolve, batchTimeoutMs + 500));
  await finish(child, r, dir);
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return {
    linesPerSecond: Math.round(written / elapsed),
    cpuPercentOfOneCore: ((100 * (cpu1 - cpu0)) / elapsed).toFixed(1),
    latencyP50ms: q(0.5),
    latencyP99ms: q(0.99),
    batchTimeoutMs,
  };
}

/** 3. The receiver down for 20 s under load; every line must arrive once it is back. */
async function outage({ bufferMaxBytes, bulkMiB }) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-http-outage-'));
  const file = join(dir, 'app.log');
  writeFileSync(file, '');
  const seen = new Set();
  const onLine = (line) => {
    const m = /"message":"line (\d+)"/.exec(line);
    if (m) seen.add(Number(m[1]));
  };
  let r = await receiver(onLine);
  const port = Number(new URL(r.url).port);
  const extra = ['--format', 'raw', '--batch-timeout', '100ms'];
  if (bufferMaxBytes) extra.push('--buffer-max-bytes', bufferMaxBytes);
  const child = startSidecar(dir, join(dir, '*.log'), r.url, extra);
  let written = 0;
  const write = (count) => {
    let chunk = '';
    for (let i = 0; i < count; i++) chunk += `line ${written++}\n`;
    appendFileSync(file, chunk);
  };
  write(100);
  await until(() => seen.size >= 100, 30_000);
  const rssBefore = rssNow(child.pid);
  r.server.closeAllConnections();
  await new Promise((resolve) => r.server.close(resolve));
  if (bulkMiB) {
    // Far more than the buffer: a reader that did not pause would show it in its RSS.
    const line = `${'x'.repeat(199)}\n`;
    writeFileSync(join(dir, 'bulk.log'), line.repeat((bulkMiB * MiB) / 200));
  }
  let rssPeak = rssBefore;
  const downUntil = Date.now() + 20_000;
  while (Date.now() < downUntil) {
    write(500);
    rssPeak = Math.max(rssPeak, rssNow(child.pid));
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const back = Date.now();
  r = await receiver(onLine, port);
  await until(() => seen.size >= written, 300_000);
  const catchUpSeconds = (Date.now() - back) / 1000;
  const hwm = peakRss(child.pid);
  await finish(child, r, dir);
  return {
    buffer: bufferMaxBytes ?? 'default',
    bulkMiB: bulkMiB ?? 0,
    linesWritten: written,
    rssBeforeMiB: (rssBefore / MiB).toFixed(1),
    rssPeakDuringOutageMiB: (rssPeak / MiB).toFixed(1),
    rssGrowthMiB: ((rssPeak - rssBefore) / MiB).toFixed(1),
    vmHwmMiB: (hwm / MiB).toFixed(1),
    catchUpSeconds: catchUpSeconds.toFixed(1),
  };
}

/** 4. A sparse 1 GiB line with no newline, then one short line; the sink keeps up. */
async function hugeLine() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-http-huge-'));
  const path = join(dir, 'huge.log');
  const fd = openSync(path, 'w');
  writeSync(fd, '\n', 1024 ** 3 - 1);
  closeSync(fd);
  writeFileSync(path, 'x', { flag: 'r+' });
  appendFileSync(path, 'after\n');
  const r = await receiver();
  const started = Date.now();
  const child = startSidecar(dir, path, r.url, ['--format', 'raw', '--max-line-bytes', '64KiB']);
  await until(() => r.count() >= 2, 300_000);
  const seconds = (Date.now() - started) / 1000;
  const hwm = peakRss(child.pid);
  await finish(child, r, dir);
  return { seconds: seconds.toFixed(1), vmHwmMiB: (hwm / MiB).toFixed(1) };
}

/** JSON lines like the steady run's, `count` of them, each carrying its write time and a sequence number. */
function jsonLines(count, first) {
  const wt = Date.now();
  const pad = 'x'.repeat(120);
  let chunk = '';
  for (let i = 0; i < count; i++)
    chunk += `{"ts":${wt / 1000},"level":"info","msg":"request finished","wt":${wt},"seq":${first + i},"pad":"${pad}"}\n`;
  return chunk;
}

async function catchUp(outageSeconds) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-http-catchup-'));
  const file = join(dir, 'app.log');
  writeFileSync(file, '');
  let r = await receiver();
  const port = Number(new URL(r.url).port);
  let delivered = 0;
  const child = startSidecar(dir, file, r.url, ['--format', 'json']);
  let seq = 0;
  const timer = setInterval(() => {
    appendFileSync(file, jsonLines(100, seq));
    seq += 100;
  }, 10);
  let phase = 'warm-up';
  const peak = { 'warm-up': 0, outage: 0, 'catch-up': 0 };
  const sampler = setInterval(() => {
    try {
      peak[phase] = Math.max(peak[phase], rssNow(child.pid));
    } catch {}
  }, 100);
  await new Promise((resolve) => setTimeout(resolve, 5000));
  // The outage: the receiver stops listening and drops its connections, so requests are refused.
  phase = 'outage';
  delivered += r.count();
  r.server.closeAllConnections();
  await new Promise((resolve) => r.server.close(resolve));
  await new Promise((resolve) => setTimeout(resolve, outageSeconds * 1000));
  const backlog = seq - delivered;
  phase = 'catch-up';
  r = await receiver(undefined, port);
  const recovered = Date.now();
  // Caught up when the receiver has every line written before it came back (at least once: retries may
  // duplicate) and is less than one second of writing behind.
  const target = seq;
  await until(() => delivered + r.count() >= Math.max(target, seq - 10_000), 600_000);
  const catchUpSeconds = (Date.now() - recovered) / 1000;
  clearInterval(timer);
  clearInterval(sampler);
  const hwm = peakRss(child.pid);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  r.server.close();
  rmSync(dir, { recursive: true, force: true });
  const mib = (b) => (b / 1024 / 1024).toFixed(1);
  return {
    outageSeconds,
    backlogLines: backlog,
    catchUpSeconds: catchUpSeconds.toFixed(1),
    peakRssOutageMiB: mib(peak.outage),
    peakRssCatchUpMiB: mib(peak['catch-up']),
    peakRssMiB: mib(hwm),
  };
}

const only = process.env.BENCH_ONLY;
const runs = process.env.BENCH_RUNS
  ? process.env.BENCH_RUNS.split(',').map((r) => [r.split(':')[0], r.split(':')[1] === 'gzip'])
  : [
      ['json', false],
      ['raw', false],
      ['json', true],
      ['raw', true],
    ];
const repeat = Number(process.env.BENCH_REPEAT ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Median of each numeric field over `repeat` runs; every run is printed too. */
async function medianOf(label, run) {
  const results = [];
  for (let i = 0; i < repeat; i++) {
    const r = await run();
    console.error(`${label} run ${i + 1}: ${JSON.stringify(r)}`);
    results.push(r);
  }
  const out = {};
  for (const key of Object.keys(results[0])) {
    const values = results.map((r) => r[key]);
    out[key] =
      typeof values[0] === 'boolean' || (typeof values[0] === 'string' && Number.isNaN(Number(values[0])))
        ? values[0]
        : median(values.map(Number));
  }
  return { ...out, runs: repeat };
}
// The cold runs' input file, made only when they run.
const dir = mkdtempSync(join(tmpdir(), 'bench-http-input-'));
const file = join(dir, 'app.log');
let bytes = 0;
if (!only || only === 'cold') {
  spawnSync(process.execPath, [join(root, 'bench/log-sidecar/make-file.mjs'), file, String(LINES)], {
    stdio: 'inherit',
  });
  bytes = statSync(file).size;
  console.log(
    `input: ${LINES} lines, ${(bytes / 1024 / 1024).toFixed(1)} MiB (${Math.round(bytes / LINES)} B/line)`,
  );
}
for (const [format, gzip] of runs) {
  if (only && only !== 'cold') break;
  console.log(
    JSON.stringify(await medianOf(`${format} gzip=${gzip}`, () => cold(file, bytes, format, gzip))),
  );
}
if (!only || only === 'steady') console.log(JSON.stringify(await medianOf('steady', () => steady(1000))));
if (!only || only === 'outage') {
  console.log(JSON.stringify(await medianOf('outage', () => outage({}))));
  console.log(
    JSON.stringify(
      await medianOf('outage 4MiB buffer + 30 MiB file', () =>
        outage({ bufferMaxBytes: '4MiB', bulkMiB: 30 }),
      ),
    ),
  );
}
if (!only || only === 'huge-line') console.log(JSON.stringify(await medianOf('huge line', hugeLine)));
if (!only || only === 'catchup')
  console.log(
    JSON.stringify(await medianOf('catch-up', () => catchUp(Number(process.env.BENCH_OUTAGE ?? 60)))),
  );
if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
