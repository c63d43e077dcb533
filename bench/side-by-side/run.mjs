#!/usr/bin/env node
// Side by side with the peers of issue 16: our sidecars and, when their binaries are given, Fluent Bit
// (log rows) and Prometheus (metrics rows), on the same input, in alternation rep by rep, medians and
// ratios. Build first (`pnpm build`).
//
//   node bench/side-by-side/run.mjs [--reps 3] [--lines 2000000] [--rows http-json,scrape-15s,...]
//        [--gzip] [--compare DIR] [--b-node-flags='--flag ...'] [--node PATH] [--b-node PATH] [--as-image]
//        [--b-as-image]
// --gzip compresses the HTTP sink's bodies (ours --sink-gzip true, Fluent Bit Compress gzip).
// The `serve` row (wrk, `--serve-seconds 5`) serves the scraped body: ours, a plain node:http server
// answering ours' bytes, and Prometheus' /federate of the same series.
// The scrape rows measure `--scrapes-<interval>` scrapes after `--warm-scrapes 2` (each subject's first
// scrapes, not measured); at 15 s the JIT's warm-up spans the first ~5 scrapes of ours (see
// docs/benchmarks.md, "metrics-sidecar: wt/scrape2"): `--warm-scrapes 8` measures the steady state.
//
// Peers (never installed, vendored or built by this script):
//   FLUENT_BIT_BIN=/path/to/fluent-bit   a Fluent Bit the user built; without it the log rows print ours only.
//   PROMETHEUS_BIN (default /usr/bin/prometheus, Debian's package) for the scrape rows.
// A/B of our own code: `--compare DIR` runs the sidecars of another checkout (built, e.g. a
// `git worktree add /tmp/old <commit>`) as subject "B"; `--b-node-flags` gives subject B its own
// node/V8 flags (before the script, so flags NODE_OPTIONS refuses work too) and `--b-args` extra
// sidecar options (B is this checkout when --compare is absent); OURS_NODE_FLAGS / OURS_ARGS do the same
// for subject "ours"; `--b-env 'NAME=value ...'` / OURS_ENV add environment variables (MALLOC_ARENA_MAX...).
// The Pod's process: `--node PATH` / `--b-node PATH` run a subject on another node binary (the image's:
// `scripts/container-env.sh up` keeps it in ~/.cache/agent-sidecars/node-<major>/package/bin/node), and
// `--as-image` runs "ours" as the image and the manifests start each sidecar: the image's node binary
// (unless --node says otherwise), the node flags of its ENTRYPOINT in images/sidecar/Dockerfile, and the
// NODE_OPTIONS and other environment of its container in k8s/components/<sidecar>/inject/pod-template.yaml.
// `--b-as-image` does the same for B (from B's checkout with --compare), so that `--as-image --b-as-image
// --b-node PATH` compares two node binaries as the Pod runs them, and `--b-node-flags` adds to the image's.
// The container's memory limit is not applied (node sizes V8 from it in a Pod: pin the heap sizes in
// NODE_OPTIONS, as the manifests do, for host figures that match the Pod's).
// Every process is spawned here and stopped by its PID; all traffic is on 127.0.0.1.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { cpus, homedir, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { get, getAsPrometheus, targetBody, targetHandler } from '../metrics-sidecar/target-body.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ALL_ROWS = [
  'http-json',
  'http-raw',
  'stdout-raw',
  'http-bounded',
  'idle',
  'live-1s',
  'live-200ms',
  'scrape-15s',
  'scrape-1s',
  'scrape-300ms',
  'serve',
];
const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    lines: { type: 'string', default: '2000000' },
    rows: { type: 'string', default: ALL_ROWS.join(',') },
    compare: { type: 'string' },
    gzip: { type: 'boolean', default: false },
    'b-node-flags': { type: 'string' },
    'b-args': { type: 'string' },
    node: { type: 'string' },
    'b-node': { type: 'string' },
    'b-env': { type: 'string' },
    'as-image': { type: 'boolean', default: false },
    'b-as-image': { type: 'boolean', default: false },
    'idle-seconds': { type: 'string', default: '30' },
    'live-seconds': { type: 'string', default: '20' },
    'scrapes-15s': { type: 'string', default: '5' },
    'scrapes-1s': { type: 'string', default: '30' },
    'scrapes-300ms': { type: 'string', default: '30' },
    'serve-seconds': { type: 'string', default: '5' },
    'warm-scrapes': { type: 'string', default: '2' },
  },
});
const REPS = Number(values.reps);
const LINES = Number(values.lines);
const ROWS = values.rows.split(',');
for (const row of ROWS) {
  if (!ALL_ROWS.includes(row)) {
    console.error(`unknown row '${row}': allowed ${ALL_ROWS.join(', ')}`);
    process.exit(2);
  }
}
if (!/^\d+$/.test(values['warm-scrapes'])) {
  console.error(`--warm-scrapes takes a whole number of scrapes, not '${values['warm-scrapes']}'`);
  process.exit(2);
}
const FLUENT_BIT = process.env.FLUENT_BIT_BIN;
const PROMETHEUS = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ---------- subjects ----------
/** How the image and the manifests start `sidecar`: ENTRYPOINT node flags, and the container's environment. */
function imageLaunch(sidecar, checkout) {
  const dockerfile = readFileSync(join(checkout, 'images/sidecar/Dockerfile'), 'utf8');
  const stages = dockerfile.split(/^FROM /m);
  // The sidecar's own stage, else the runtime stage it is built on.
  const head = (stage) => stage.split('\n')[0].trim();
  const entrypoint = [
    stages.find((s) => head(s) === `runtime AS ${sidecar}`),
    stages.find((s) => head(s).endsWith(' AS runtime')),
  ]
    .map((stage) => /^ENTRYPOINT (\[.*\])$/m.exec(stage ?? '')?.[1])
    .find(Boolean);
  if (!entrypoint) throw new Error(`images/sidecar/Dockerfile: no ENTRYPOINT for ${sidecar}`);
  const argv = JSON.parse(entrypoint);
  const flags = argv.slice(1, argv.indexOf('/app/dist/main.js'));
  const manifest = readFileSync(join(checkout, `k8s/components/${sidecar}/inject/pod-template.yaml`), 'utf8');
  const env = {};
  for (const m of manifest.matchAll(/- name: ([A-Z_][A-Z0-9_]*)\n\s+value: "?([^"\n]*)"?/g)) env[m[1]] = m[2];
  const nodeOptions = (env.NODE_OPTIONS ?? '').split(' ').filter(Boolean);
  // Only what shapes the process: the Pod's identity variables change nothing measured here.
  const processEnv = Object.fromEntries(
    Object.entries(env).filter(
      ([k]) => k.startsWith('MALLOC_') || k.startsWith('GLIBC_') || k === 'UV_THREADPOOL_SIZE',
    ),
  );
  return { flags: [...flags, ...nodeOptions], env: processEnv };
}
/** 'NAME=value NAME2=value' (process tunables such as MALLOC_ARENA_MAX) as an object. */
function envOf(text) {
  const env = {};
  for (const pair of text.split(' ').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq < 1) {
      console.error(`environment '${pair}': expected NAME=value`);
      process.exit(2);
    }
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}
function imageNode(checkout) {
  const major = /^ARG NODE_VERSION=(\d+)/m.exec(
    readFileSync(join(checkout, 'images/sidecar/Dockerfile'), 'utf8'),
  )[1];
  const cache =
    process.env.AGENT_SIDECARS_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'agent-sidecars');
  const node = join(cache, `node-${major}`, 'package/bin/node');
  if (!existsSync(node)) {
    console.error(
      `--as-image: ${node} is missing; \`scripts/container-env.sh up\` fetches it, or give --node PATH`,
    );
    process.exit(2);
  }
  return node;
}
const subjects = [
  {
    name: 'ours',
    kind: 'ours',
    root,
    node: values.node ?? (values['as-image'] ? imageNode(root) : process.execPath),
    nodeFlags: process.env.OURS_NODE_FLAGS ?? '',
    args: process.env.OURS_ARGS ?? '',
    env: envOf(process.env.OURS_ENV ?? ''),
    asImage: values['as-image'],
  },
];
if (
  values.compare ||
  values['b-node-flags'] !== undefined ||
  values['b-args'] !== undefined ||
  values['b-node'] !== undefined ||
  values['b-env'] !== undefined ||
  values['b-as-image']
) {
  const bRoot = values.compare ? resolve(values.compare) : root;
  subjects.push({
    name: 'B',
    kind: 'ours',
    root: bRoot,
    node: values['b-node'] ?? (values['b-as-image'] ? imageNode(bRoot) : process.execPath),
    nodeFlags: values['b-node-flags'] ?? '',
    args: values['b-args'] ?? '',
    env: envOf(values['b-env'] ?? ''),
    asImage: values['b-as-image'],
  });
}
for (const s of subjects) {
  if (!existsSync(s.node)) {
    console.error(`node binary ${s.node} (subject ${s.name}) does not exist`);
    process.exit(2);
  }
}
const logPeer = FLUENT_BIT && existsSync(FLUENT_BIT) ? { name: 'fluent-bit', kind: 'fluent-bit' } : null;
const metricsPeer = existsSync(PROMETHEUS) ? { name: 'prometheus', kind: 'prometheus' } : null;
if (FLUENT_BIT && !logPeer) console.error(`FLUENT_BIT_BIN=${FLUENT_BIT} does not exist`);
if (!logPeer)
  console.log('Fluent Bit: not given (set FLUENT_BIT_BIN to a binary you built); log rows show ours only.');
if (!metricsPeer) console.log(`Prometheus: ${PROMETHEUS} not found; scrape rows show ours only.`);

/** The node flags and environment of `subject` running `sidecar` (the image's own with --as-image, then its own). */
function launchOf(subject, sidecar) {
  const own = subject.nodeFlags.split(' ').filter(Boolean);
  if (!subject.asImage) return { flags: own, env: { PATH: process.env.PATH, ...subject.env } };
  const image = imageLaunch(sidecar, subject.root);
  return { flags: [...image.flags, ...own], env: { PATH: process.env.PATH, ...image.env, ...subject.env } };
}

// ---------- /proc ----------
function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}
function statusKiB(pid, field) {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}
const rssMiB = (pid) => statusKiB(pid, 'VmRSS') / 1024;
const hwmMiB = (pid) => statusKiB(pid, 'VmHWM') / 1024;

/** Every process this script started, stopped by PID if the script fails half-way. */
const children = new Set();
process.on('exit', () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
  return exited.finally(() => clearTimeout(force));
}

async function until(check, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

// ---------- log side ----------
/** NDJSON receiver: counts requests, body bytes (as sent), lines; optional per-line callback. */
function receiver(onLine) {
  const stats = { requests: 0, bytes: 0, lines: 0 };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      stats.requests++;
      stats.bytes += body.length;
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      for (let i = body.indexOf(10); i !== -1; i = body.indexOf(10, i + 1)) stats.lines++;
      if (onLine) {
        const now = Date.now();
        for (const line of body.toString().split('\n')) if (line) onLine(line, now);
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((r) =>
    server.listen(0, '127.0.0.1', () => r({ server, port: server.address().port, stats })),
  );
}

/** Spawns one log shipper reading `path`; sink is {http: port} or 'stdout'. */
function startLogShipper(subject, dir, path, { format, sink, bufferMaxBytes, batchTimeout }) {
  if (subject.kind === 'ours') {
    const args = [
      join(subject.root, 'packages/log-sidecar/dist/main.js'),
      '--path',
      path,
      '--checkpoint-dir',
      join(dir, 'ckpt'),
      '--listen',
      '127.0.0.1:0',
      '--format',
      format,
      '--log-level',
      'warn',
    ];
    if (sink === 'stdout') args.push('--sink', 'stdout');
    else {
      args.push('--sink', 'http', '--sink-url', `http://127.0.0.1:${sink.http}/`);
      args.push('--sink-gzip', String(values.gzip));
    }
    if (bufferMaxBytes) args.push('--buffer-max-bytes', bufferMaxBytes);
    if (batchTimeout) args.push('--batch-timeout', batchTimeout);
    args.push(...subject.args.split(' ').filter(Boolean));
    const launch = launchOf(subject, 'log-sidecar');
    return track(
      spawn(subject.node, [...launch.flags, ...args], {
        stdio: ['ignore', sink === 'stdout' ? 'pipe' : 'ignore', 'inherit'],
        env: launch.env,
      }),
    );
  }
  // Fluent Bit, classic config: tail from the head, its defaults otherwise (flush 1 s).
  writeFileSync(join(dir, 'parsers.conf'), '[PARSER]\n    Name json\n    Format json\n');
  const flush = batchTimeout
    ? Number.parseInt(batchTimeout, 10) / (batchTimeout.endsWith('ms') ? 1000 : 1)
    : 1;
  const input = [
    '[INPUT]',
    '    Name tail',
    `    Path ${path}`,
    '    Read_From_Head true',
    `    DB ${join(dir, 'fb.db')}`,
    ...(format === 'json' ? ['    Parser json'] : []),
    ...(bufferMaxBytes ? ['    Mem_Buf_Limit 5MB'] : []),
  ];
  const output =
    sink === 'stdout'
      ? ['[OUTPUT]', '    Name stdout', '    Match *', '    Format json_lines']
      : [
          '[OUTPUT]',
          '    Name http',
          '    Match *',
          '    Host 127.0.0.1',
          `    Port ${sink.http}`,
          '    URI /',
          '    Format json_lines',
          ...(values.gzip ? ['    Compress gzip'] : []),
        ];
  const conf = [
    '[SERVICE]',
    `    Flush ${flush}`,
    '    Log_Level warn',
    `    Parsers_File ${join(dir, 'parsers.conf')}`,
    ...input,
    ...output,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'fluent-bit.conf'), conf);
  return track(
    spawn(FLUENT_BIT, ['-c', join(dir, 'fluent-bit.conf')], {
      stdio: ['ignore', sink === 'stdout' ? 'pipe' : 'ignore', 'inherit'],
    }),
  );
}

/** A whole file from the head, as fast as it goes: lines/s, CPU s, peak RSS, requests, bytes/line. */
async function coldRun(subject, file, { format, sink, bufferMaxBytes }) {
  const dir = mkdtempSync(join(tmpdir(), 'sbs-cold-'));
  const r = sink === 'stdout' ? null : await receiver();
  let stdoutLines = 0;
  const started = process.hrtime.bigint();
  const child = startLogShipper(subject, dir, file, {
    format,
    sink: r ? { http: r.port } : 'stdout',
    bufferMaxBytes,
  });
  child.stdout?.on('data', (c) => {
    for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) stdoutLines++;
  });
  const delivered = () => (r ? r.stats.lines : stdoutLines);
  let peak = 0;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, hwmMiB(child.pid));
    } catch {}
  }, 100);
  await until(() => delivered() >= LINES, 900_000, `${subject.name} to deliver ${LINES} lines`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = cpuSeconds(child.pid);
  peak = Math.max(peak, hwmMiB(child.pid));
  clearInterval(sampler);
  await stop(child);
  r?.server.close();
  r?.server.closeAllConnections();
  rmSync(dir, { recursive: true, force: true });
  return {
    linesPerSecond: LINES / seconds,
    cpuSeconds: cpu,
    peakRssMiB: peak,
    ...(r ? { requests: r.stats.requests, bytesPerLine: r.stats.bytes / r.stats.lines } : {}),
  };
}

/** An idle file with an HTTP sink configured: RSS and CPU % of a core after it settled. */
async function idleRun(subject) {
  const dir = mkdtempSync(join(tmpdir(), 'sbs-idle-'));
  const file = join(dir, 'app.log');
  let text = '';
  for (let i = 0; i < 1000; i++) text += `${JSON.stringify({ ts: Date.now() / 1000, msg: 'hello', i })}\n`;
  writeFileSync(file, text);
  const r = await receiver();
  const child = startLogShipper(subject, dir, join(dir, '*.log'), { format: 'json', sink: { http: r.port } });
  await until(() => r.stats.lines >= 1000, 60_000, 'the first 1000 lines');
  await sleep(10_000);
  const cpu0 = cpuSeconds(child.pid);
  const t0 = Date.now();
  await sleep(Number(values['idle-seconds']) * 1000);
  const cpu = (100 * (cpuSeconds(child.pid) - cpu0)) / ((Date.now() - t0) / 1000);
  const result = { rssMiB: rssMiB(child.pid), peakRssMiB: hwmMiB(child.pid), cpuPercent: cpu };
  await stop(child);
  r.server.close();
  r.server.closeAllConnections();
  rmSync(dir, { recursive: true, force: true });
  return result;
}

/** 10,000 lines/s appended (100 every 10 ms): CPU % of a core, write-to-receiver latency p50/p99. */
async function liveRun(subject, batchTimeout) {
  const dir = mkdtempSync(join(tmpdir(), 'sbs-live-'));
  const file = join(dir, 'app.log');
  writeFileSync(file, '');
  const latencies = [];
  // Fluent Bit's raw `log` field would escape the quotes; the parsed record keeps "wt":N either way.
  const r = await receiver((line, now) => {
    const m = /wt\\?":(\d+)/.exec(line);
    if (m) latencies.push(now - Number(m[1]));
  });
  const child = startLogShipper(subject, dir, join(dir, '*.log'), {
    format: 'json',
    sink: { http: r.port },
    batchTimeout,
  });
  await sleep(1500);
  const pad = 'x'.repeat(120);
  let seq = 0;
  let writing = Promise.resolve();
  const timer = setInterval(() => {
    const wt = Date.now();
    let chunk = '';
    for (let i = 0; i < 100; i++)
      chunk += `{"ts":${wt / 1000},"level":"info","msg":"request finished","wt":${wt},"seq":${seq++},"pad":"${pad}"}\n`;
    writing = writing.then(() => appendFile(file, chunk));
  }, 10);
  await sleep(3000);
  latencies.length = 0;
  const cpu0 = cpuSeconds(child.pid);
  const t0 = Date.now();
  const written0 = seq;
  await sleep(Number(values['live-seconds']) * 1000);
  const elapsed = (Date.now() - t0) / 1000;
  const cpu = (100 * (cpuSeconds(child.pid) - cpu0)) / elapsed;
  const written = seq - written0;
  clearInterval(timer);
  await writing;
  await sleep(1500);
  await stop(child);
  r.server.close();
  r.server.closeAllConnections();
  rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { linesPerSecond: written / elapsed, cpuPercent: cpu, p50ms: q(0.5), p99ms: q(0.99) };
}

// ---------- metrics side ----------
const omBody = targetBody();
const omGzip = gzipSync(omBody);
let targetRequests = 0;
let target;
async function startTarget() {
  target = createServer(
    targetHandler(omBody, omGzip, () => {
      targetRequests++;
    }),
  );
  target.keepAliveTimeout = 60_000;
  await new Promise((r) => target.listen(0, '127.0.0.1', r));
}

const durationMs = (text) => Number.parseFloat(text) * (text.endsWith('ms') ? 1 : 1000);

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Our metrics-sidecar scraping the harness's target as `app`, serving on `port`, with `args` added. */
function startMetricsSidecar(subject, port, args) {
  const launch = launchOf(subject, 'metrics-sidecar');
  return track(
    spawn(
      subject.node,
      [
        ...launch.flags,
        join(subject.root, 'packages/metrics-sidecar/dist/main.js'),
        '--listen',
        `127.0.0.1:${port}`,
        '--target',
        `app=${`http://127.0.0.1:${target.address().port}/metrics`}`,
        '--log-level',
        'warn',
        ...args,
        ...subject.args.split(' ').filter(Boolean),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], env: launch.env },
    ),
  );
}

/** Prometheus scraping the harness's target as job `app` every `interval`, its data in `dir`. */
function startPrometheus(dir, port, interval) {
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      `  scrape_interval: ${interval}`,
      `  scrape_timeout: ${durationMs(interval) >= 15_000 ? '10s' : interval}`,
      'scrape_configs:',
      '  - job_name: app',
      `    static_configs: [{ targets: ['127.0.0.1:${target.address().port}'] }]`,
      '',
    ].join('\n'),
  );
  return track(
    spawn(
      PROMETHEUS,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    ),
  );
}

/**
 * One scraper on the 10,000-series target at `interval`: after `warm` scrapes, CPU per scrape over the
 * next `scrapes`, RSS at the end. Ours also answers one OpenMetrics+gzip GET after each scrape, as the
 * Prometheus that scrapes it would; Prometheus only scrapes and stores (no /federate).
 */
async function scrapeRun(subject, interval, scrapes, warm = 2) {
  const dir = mkdtempSync(join(tmpdir(), 'sbs-scrape-'));
  const port = await freePort();
  const timeout = `${Math.min(10_000, Math.round(durationMs(interval) * 0.8))}ms`;
  const child =
    subject.kind === 'ours'
      ? startMetricsSidecar(subject, port, ['--interval', interval, '--timeout', timeout])
      : startPrometheus(dir, port, interval);
  const base = targetRequests;
  // Prometheus' first scrape comes up to one interval after its start.
  const warmMs = Math.max(120_000, (warm + 2) * durationMs(interval));
  await until(() => targetRequests - base >= warm, warmMs, `${subject.name}'s first scrapes`);
  await sleep(200);
  const cpu0 = cpuSeconds(child.pid);
  const r0 = targetRequests;
  let seen = r0;
  while (targetRequests - r0 < scrapes) {
    if (subject.kind === 'ours' && targetRequests !== seen) {
      seen = targetRequests;
      await sleep(50);
      await getAsPrometheus(port);
    }
    await sleep(20);
  }
  await sleep(300); // the last scrape's parse and store
  const n = targetRequests - r0;
  const result = {
    cpuMsPerScrape: ((cpuSeconds(child.pid) - cpu0) * 1000) / n,
    rssMiB: rssMiB(child.pid),
    peakRssMiB: hwmMiB(child.pid),
  };
  await stop(child);
  rmSync(dir, { recursive: true, force: true });
  return result;
}

/**
 * Serving the 10,000-series body to `wrk -t1 -c10` (text, no gzip, as the issue's row): ours after its
 * first scrape of the target, a plain `node:http` server answering the same bytes from memory (the
 * ceiling for a Node server), and Prometheus' `/federate` of the same series (what a user would put in
 * front of an app to re-serve it).
 */
const PLAIN_SERVER = `
const { createServer } = require('node:http');
const { readFileSync } = require('node:fs');
const body = readFileSync(process.argv[1]);
const server = createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.argv[2]), '127.0.0.1');`;
const plainPeer = { name: 'plain-node', kind: 'plain' };
/** What ours served as text in its last serve run: the plain server answers exactly these bytes. */
let oursServedBody;

async function serveRun(subject) {
  const dir = mkdtempSync(join(tmpdir(), 'sbs-serve-'));
  const port = await freePort();
  let child;
  let path = '/metrics';
  if (subject.kind === 'ours') {
    child = startMetricsSidecar(subject, port, []);
  } else if (subject.kind === 'plain') {
    // Ours runs first in the first rep (the order flips only from the second), so its bytes are there.
    if (oursServedBody === undefined) throw new Error('the plain server needs ours to have served first');
    writeFileSync(join(dir, 'body.txt'), oursServedBody);
    // On ours' node binary, so that the ceiling is the same Node's.
    child = track(
      spawn(subjects[0].node, ['-e', PLAIN_SERVER, join(dir, 'body.txt'), String(port)], {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { PATH: process.env.PATH },
      }),
    );
  } else {
    child = startPrometheus(dir, port, '15s');
    path = `/federate?match%5B%5D=${encodeURIComponent('{job="app"}')}`;
  }
  const url = `http://127.0.0.1:${port}${path}`;
  let body;
  const end = Date.now() + 120_000;
  for (;;) {
    const r = await get(url, {}).catch(() => undefined);
    // Ready once the target's series are in what it serves (Prometheus: after its first scrape).
    if (r?.status === 200 && r.body.includes('worker="worker-1499"')) {
      body = r.body;
      break;
    }
    if (Date.now() > end) throw new Error(`${subject.name} did not serve the target's series`);
    await sleep(200);
  }
  if (subject.name === 'ours') oursServedBody = body;
  const cpu0 = cpuSeconds(child.pid);
  const wrk = spawnSync('wrk', ['-t1', '-c10', `-d${values['serve-seconds']}s`, url], { encoding: 'utf8' });
  const cpu = cpuSeconds(child.pid) - cpu0;
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(wrk.stdout ?? '');
  if (!rps) throw new Error(`wrk against ${subject.name} printed no rate: ${wrk.stderr || wrk.error}`);
  const result = {
    requestsPerSecond: Number(rps[1]),
    bodyKiB: body.length / 1024,
    cpuMsPerRequest: (cpu * 1000) / (Number(rps[1]) * Number(values['serve-seconds'])),
    rssMiB: rssMiB(child.pid),
  };
  await stop(child);
  rmSync(dir, { recursive: true, force: true });
  return result;
}

// ---------- driver ----------
const LOG_ROWS = {
  'http-json': { what: 'file -> HTTP, JSON parsed', opts: { format: 'json', sink: 'http' } },
  'http-raw': { what: 'file -> HTTP, raw lines', opts: { format: 'raw', sink: 'http' } },
  'stdout-raw': { what: 'file -> stdout, raw lines', opts: { format: 'raw', sink: 'stdout' } },
  'http-bounded': {
    what: 'file -> HTTP, raw, buffer 5 MiB (FB Mem_Buf_Limit 5MB)',
    opts: { format: 'raw', sink: 'http', bufferMaxBytes: '5MiB' },
  },
};

let file;
function inputFile() {
  if (file) return file;
  const dir = join(root, 'bench/.data');
  file = join(dir, `lines-${LINES}.log`);
  if (!existsSync(file)) {
    spawnSync('mkdir', ['-p', dir]);
    spawnSync(process.execPath, [join(root, 'bench/log-sidecar/make-file.mjs'), file, String(LINES)], {
      stdio: 'inherit',
    });
  }
  readFileSync(file); // into the page cache
  return file;
}

function rowRunner(row) {
  if (LOG_ROWS[row]) {
    return {
      what: LOG_ROWS[row].what,
      who: [...subjects, ...(logPeer ? [logPeer] : [])],
      run: (s) => coldRun(s, inputFile(), LOG_ROWS[row].opts),
    };
  }
  if (row === 'idle')
    return {
      what: 'idle, HTTP sink configured',
      who: [...subjects, ...(logPeer ? [logPeer] : [])],
      run: idleRun,
    };
  if (row.startsWith('live-'))
    return {
      what: `live 10,000 lines/s, batch timeout / flush ${row.slice(5)}`,
      who: [...subjects, ...(logPeer ? [logPeer] : [])],
      run: (s) => liveRun(s, row.slice(5)),
    };
  if (row === 'serve')
    return {
      what: 'serve the 10,000-series body (text), wrk -t1 -c10',
      who: [...subjects, plainPeer, ...(metricsPeer ? [metricsPeer] : [])],
      run: serveRun,
    };
  const interval = row.slice('scrape-'.length);
  return {
    what: `scrape 10,000 series every ${interval}`,
    who: [...subjects, ...(metricsPeer ? [metricsPeer] : [])],
    run: (s) =>
      scrapeRun(s, interval, Number(values[`scrapes-${interval}`] ?? 10), Number(values['warm-scrapes'])),
  };
}

/** A ratio with two decimals, or two significant digits when it is below 0.1 (0.0028x, not 0.00x). */
const ratio = (r) => `${r < 0.1 ? r.toPrecision(2) : r.toFixed(2)}x`;

const fmt = (k, v) =>
  k === 'linesPerSecond' || k === 'requests' || k === 'requestsPerSecond'
    ? Math.round(v).toLocaleString('en-US')
    : v.toFixed(k === 'bytesPerLine' ? 0 : k === 'cpuPercent' ? 2 : k === 'cpuMsPerRequest' ? 3 : 1);

console.log(
  `Machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
);
console.log(`Command: node bench/side-by-side/run.mjs ${process.argv.slice(2).join(' ')}`);
for (const s of subjects) {
  if (
    s.nodeFlags ||
    s.args ||
    s.root !== root ||
    s.node !== process.execPath ||
    Object.keys(s.env).length > 0
  )
    console.log(
      `subject ${s.name}: ${s.root} node ${s.node} node flags '${s.nodeFlags}' args '${s.args}' env ${JSON.stringify(s.env)}`,
    );
  if (s.asImage)
    for (const sidecar of ['log-sidecar', 'metrics-sidecar']) {
      const { flags, env: withPath } = launchOf(s, sidecar);
      const { PATH: _path, ...env } = withPath;
      console.log(
        `subject ${s.name} as the image runs ${sidecar}: node flags '${flags.join(' ')}' env ${JSON.stringify(env)}`,
      );
    }
}
if (ROWS.some((r) => r.startsWith('scrape-') || r === 'serve')) await startTarget();
const summary = [];
for (const row of ROWS) {
  const { what, who, run } = rowRunner(row);
  const results = Object.fromEntries(who.map((s) => [s.name, []]));
  for (let rep = 0; rep < REPS; rep++) {
    // Alternate who goes first so that a drift in the machine's load does not favour one side.
    const order = rep % 2 === 0 ? who : [...who].reverse();
    for (const s of order) {
      const r = await run(s);
      results[s.name].push(r);
      console.error(
        `${row} rep ${rep + 1} ${s.name}: ${JSON.stringify(r, (_key, v) => (typeof v === 'number' ? Number(v.toFixed(2)) : v))}`,
      );
    }
  }
  const med = {};
  for (const [name, rs] of Object.entries(results)) {
    med[name] = {};
    for (const k of Object.keys(rs[0])) med[name][k] = median(rs.map((r) => r[k]));
  }
  summary.push({ row, what, med, results });
  console.log(`\n### ${what} (${row}), median of ${REPS}`);
  const keys = Object.keys(med.ours);
  console.log(`| subject | ${keys.join(' | ')} |`);
  console.log(`|---|${keys.map(() => '---').join('|')}|`);
  for (const [name, m] of Object.entries(med)) {
    const runs = (k) => results[name].map((r) => fmt(k, r[k])).join(', ');
    console.log(`| ${name} | ${keys.map((k) => `${fmt(k, m[k])} (${runs(k)})`).join(' | ')} |`);
  }
  for (const name of Object.keys(med).filter((n) => n !== 'ours')) {
    console.log(
      `| ours / ${name} | ${keys.map((k) => (med[name][k] ? ratio(med.ours[k] / med[name][k]) : '-')).join(' | ')} |`,
    );
  }
}
target?.close();
target?.closeAllConnections();
