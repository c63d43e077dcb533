// log-sidecar stdout benchmark (issue 3). Usage: node bench/log-sidecar/run.mjs [--runs 3] [--lines 2000000]
// Prints a Markdown table; see RESULTS.md for the figures and how they were taken.
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const main = join(root, 'packages/log-sidecar/dist/main.js');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : args[i + 1];
};
const runs = Number(option('--runs', '3'));
const lines = Number(option('--lines', '2000000'));
const only = option('--only', 'all');
const dataDir = join(root, 'bench/.data');
const input = join(dataDir, `lines-${lines}.log`);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function metric(port, name) {
  try {
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const line = body.split('\n').find((l) => l.startsWith(name));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  } catch {
    return -1;
  }
}

let nextPort = 19_400;

/** One cold run: a fresh checkpoint dir, the whole file to stdout (/dev/null), until every line is acked. */
async function throughputRun(format) {
  const port = nextPort++;
  const ckpt = mkdtempSync(join(tmpdir(), 'bench-ckpt-'));
  const devNull = openSync('/dev/null', 'w');
  const started = performance.now();
  const child = spawn(
    '/usr/bin/time',
    [
      '-v',
      process.execPath,
      main,
      '--path',
      input,
      '--checkpoint-dir',
      ckpt,
      '--listen',
      `127.0.0.1:${port}`,
      '--format',
      format,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', devNull, 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  for (;;) {
    const delivered = await metric(port, 'log_sidecar_records_delivered_total');
    if (delivered >= lines) break;
    await sleep(20);
  }
  const seconds = (performance.now() - started) / 1000;
  const nodePid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim());
  process.kill(nodePid, 'SIGTERM');
  await exited;
  closeSync(devNull);
  rmSync(ckpt, { recursive: true, force: true });
  const field = (label) => Number(new RegExp(`${label}: ([\\d.]+)`).exec(stderr)?.[1]);
  return {
    seconds,
    linesPerSecond: lines / seconds,
    mibPerSecond: statSync(input).size / 1024 / 1024 / seconds,
    cpuSeconds: field('User time \\(seconds\\)') + field('System time \\(seconds\\)'),
    peakRssMiB: field('Maximum resident set size \\(kbytes\\)') / 1024,
  };
}

function startSidecar(path, port, extra = []) {
  const ckpt = mkdtempSync(join(tmpdir(), 'bench-ckpt-'));
  const devNull = openSync('/dev/null', 'w');
  const child = spawn(
    process.execPath,
    [
      main,
      '--path',
      path,
      '--checkpoint-dir',
      ckpt,
      '--listen',
      `127.0.0.1:${port}`,
      '--log-level',
      'warn',
      ...extra,
    ],
    { stdio: ['ignore', devNull, 'inherit'] },
  );
  return { child, ckpt };
}

async function ready(port) {
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) return;
    } catch {}
    await sleep(20);
  }
}

function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks
}

function rssMiB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
}

/** RSS while watching one idle file, after it settled. */
async function idle() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-idle-'));
  const path = join(dir, 'app.log');
  const fd = openSync(path, 'w');
  for (let i = 0; i < 1000; i++)
    writeSync(fd, `${JSON.stringify({ ts: Date.now() / 1000, msg: 'hello', i })}\n`);
  closeSync(fd);
  const port = nextPort++;
  const { child } = startSidecar(join(dir, '*.log'), port);
  await ready(port);
  await sleep(10_000);
  const rss = rssMiB(child.pid);
  const t0 = cpuTicks(child.pid);
  await sleep(10_000);
  const idleCpu = (cpuTicks(child.pid) - t0) / 100 / 10; // fraction of a core
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
  return { rss, idleCpu };
}

/** CPU of one core while a writer appends 10,000 lines/s, one write() per line as Python logging does. */
async function steady(rate = 10_000, seconds = 20) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-steady-'));
  const path = join(dir, 'app.log');
  const port = nextPort++;
  closeSync(openSync(path, 'w'));
  const { child } = startSidecar(join(dir, '*.log'), port);
  await ready(port);
  const writer = spawn(
    process.execPath,
    [join(here, 'steady-writer.mjs'), path, String(rate), String(seconds + 5)],
    {
      stdio: 'inherit',
    },
  );
  await sleep(3000);
  const t0 = cpuTicks(child.pid);
  const w0 = performance.now();
  await sleep(seconds * 1000);
  const cpu = (cpuTicks(child.pid) - t0) / 100 / ((performance.now() - w0) / 1000);
  const delivered = await metric(port, 'log_sidecar_records_delivered_total');
  const rss = rssMiB(child.pid);
  writer.kill('SIGTERM');
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
  return { cpuPercent: cpu * 100, delivered, rss };
}

if (!existsSync(input)) {
  console.error(`writing ${input} ...`);
  spawnSync(process.execPath, [join(here, 'make-file.mjs'), input, String(lines)], { stdio: 'inherit' });
}

const rows = [];
for (const format of ['json', 'raw']) {
  if (only !== 'all' && only !== 'throughput' && only !== format) continue;
  const results = [];
  for (let i = 0; i < runs; i++) {
    const r = await throughputRun(format);
    console.error(
      `${format} run ${i + 1}: ${Math.round(r.linesPerSecond)} lines/s, ${r.cpuSeconds} CPU s, ${r.peakRssMiB.toFixed(0)} MiB`,
    );
    results.push(r);
  }
  rows.push(
    `| ${format} | ${Math.round(median(results.map((r) => r.linesPerSecond))).toLocaleString('en')} | ` +
      `${median(results.map((r) => r.mibPerSecond)).toFixed(1)} | ${median(results.map((r) => r.seconds)).toFixed(2)} | ` +
      `${median(results.map((r) => r.cpuSeconds)).toFixed(2)} | ${median(results.map((r) => r.peakRssMiB)).toFixed(0)} |`,
  );
}
if (rows.length > 0) {
  console.log(
    `\n${lines.toLocaleString('en')} lines, ${(statSync(input).size / 1024 / 1024).toFixed(0)} MiB, median of ${runs}:\n`,
  );
  console.log('| format | lines/s | MiB/s | wall s | user+sys CPU s | peak RSS MiB |');
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
}
if (only === 'all' || only === 'idle') {
  const { rss, idleCpu } = await idle();
  console.log(
    `\nidle RSS (one idle file, 10 s after ready): ${rss.toFixed(1)} MiB; idle CPU ${(idleCpu * 100).toFixed(2)} % of a core`,
  );
}
if (only === 'all' || only === 'steady') {
  const s = await steady();
  console.log(
    `\nsteady 10,000 lines/s (one write() per line): ${s.cpuPercent.toFixed(1)} % of one core, RSS ${s.rss.toFixed(1)} MiB, ${s.delivered} delivered`,
  );
}
