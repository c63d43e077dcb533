#!/usr/bin/env node
// Stress for the poll back-off (--max-poll-interval): can a line stay unread while the polls sleep?
//   node bench/log-sidecar/stall-stress.mjs [--sidecars 12] [--seconds 60] [--stall 20] [--checkout DIR]
// Runs SIDECARS built log-sidecars at once (DIR's build; default this checkout), each reading its own
// directory `d/*.log` and `d/*/*.log` (raw, ndjson HTTP sink to a receiver on loopback, one per sidecar,
// small buffer so an outage fills it). For SECONDS each one's writer appends a few lines at random gaps
// chosen around the back-off's steps (0-50 ms, 250, 500, 1000, 2000, 2050 ms and longer), sometimes into a
// new file, a new subdirectory, or a subdirectory created empty and written later; each receiver answers
// 503 for 2-4 s now and then while lines keep coming. A line is a stall when it has not arrived STALL s
// after both its write and the end of the outage it was written in (the HTTP retry back-off after an
// outage is a few seconds at most). At the end every line is waited for up to STALL s more; prints the
// counts and the worst latencies. Exit 1 on any stall or missing line. Build first.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    sidecars: { type: 'string', default: '12' },
    seconds: { type: 'string', default: '60' },
    stall: { type: 'string', default: '20' },
    checkout: { type: 'string', default: fileURLToPath(new URL('../../', import.meta.url)) },
    seed: { type: 'string', default: String(Date.now() % 100000) },
  },
});
const SIDECARS = Number(values.sidecars);
const SECONDS = Number(values.seconds);
const STALL_MS = Number(values.stall) * 1000;
const MAIN = join(values.checkout, 'packages/log-sidecar/dist/main.js');

let seed = Number(values.seed);
/** mulberry32: the run is repeatable from its seed (the timing, on a loaded machine, is not). */
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(random() * list.length)];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const root = mkdtempSync(join(tmpdir(), 'stall-stress-'));
/** id -> { written, due, arrived } */
const lines = new Map();
const children = [];

function receiver(state) {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (state.down) {
        res.writeHead(503).end();
        return;
      }
      const now = Date.now();
      for (const row of Buffer.concat(chunks).toString().split('\n')) {
        if (row === '') continue;
        const message = JSON.parse(row).message;
        const line = lines.get(message);
        if (line !== undefined && line.arrived === undefined) line.arrived = now;
      }
      res.writeHead(200).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function sidecar(index) {
  const dir = join(root, `s${index}`);
  mkdirSync(dir);
  const state = { down: false, downUntil: 0, outages: [] };
  const server = await receiver(state);
  const url = `http://127.0.0.1:${server.address().port}/`;
  const child = spawn(
    process.execPath,
    [
      MAIN,
      '--path',
      join(dir, '*.log'),
      '--path',
      join(dir, '*/*.log'),
      '--format',
      'raw',
      '--checkpoint-dir',
      join(root, `ckpt${index}`),
      '--sink',
      'http',
      '--sink-url',
      url,
      '--batch-timeout',
      '50ms',
      '--buffer-max-bytes',
      '64KiB',
      '--max-line-bytes',
      '16KiB',
      '--listen',
      '127.0.0.1:0',
      '--sink-gzip',
      'false',
      '--batch-max-records',
      '200',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (c) => {
    stderr += c;
  });
  children.push({
    child,
    server,
    get stderr() {
      return stderr;
    },
  });
  return { dir, state };
}

async function writer(index, { dir, state }) {
  const end = Date.now() + SECONDS * 1000;
  let n = 0;
  let file = join(dir, 'app.log');
  const pendingDirs = [];
  writeFileSync(file, '');
  while (Date.now() < end) {
    await sleep(
      pick([0, 10, 50, 240, 250, 260, 500, 1000, 1990, 2000, 2050, 2500, 4100, 6000]) + random() * 20,
    );
    const action = random();
    let kind = 'append';
    if (action < 0.08) {
      file = join(dir, `f${n}.log`);
      kind = 'new file';
    } else if (action < 0.14) {
      const sub = join(dir, `d${n}`);
      mkdirSync(sub);
      file = join(sub, 'app.log');
      kind = 'new directory';
    } else if (action < 0.18) {
      // An empty directory now, written into later: its file appears in a directory nobody watched yet.
      const sub = join(dir, `e${n}`);
      mkdirSync(sub);
      pendingDirs.push(sub);
    } else if (action < 0.22 && pendingDirs.length > 0) {
      file = join(pendingDirs.shift(), 'late.log');
      kind = 'into an empty directory made before';
    } else if (action < 0.25 && !state.down) {
      const ms = 2000 + random() * 2000;
      state.down = true;
      state.downUntil = Date.now() + ms;
      state.outages.push([Date.now(), state.downUntil]);
      setTimeout(() => {
        state.down = false;
      }, ms);
    }
    // Sometimes a burst that fills the 64 KiB buffer while the receiver is down.
    const count = random() < 0.1 ? 2000 : 1 + Math.floor(random() * 5);
    let text = '';
    const now = Date.now();
    for (let k = 0; k < count; k++) {
      const id = `s${index}-${n++}`;
      text += `${id}\n`;
      lines.set(id, {
        written: now,
        downUntil: state.down ? state.downUntil : 0,
        arrived: undefined,
        kind,
        outages: state.outages,
      });
    }
    appendFileSync(file, text);
  }
}

// A crash of this script must not leave sidecars behind: each is stopped by its PID.
process.on('exit', () => {
  for (const { child } of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
const started = Date.now();
const setups = [];
for (let i = 0; i < SIDECARS; i++) setups.push(await sidecar(i));
await sleep(3000);
await Promise.all(setups.map((s, i) => writer(i, s)));
const lastWrite = Date.now();
// Every line gets STALL ms after its write (and its outage) to arrive.
while (Date.now() < lastWrite + STALL_MS) {
  if ([...lines.values()].every((l) => l.arrived !== undefined)) break;
  await sleep(500);
}
const latencies = [];
/** The worst latency by kind of write, of lines written while the receiver was up. */
const worstByKind = {};
let stalls = 0;
let missing = 0;
/** A line's latency counts from its write or from the end of the last outage before it arrived. */
function from(line) {
  let at = line.written;
  for (const [start, end] of line.outages) {
    if (start <= (line.arrived ?? Number.POSITIVE_INFINITY) && end >= line.written) at = Math.max(at, end);
  }
  return at;
}
const outageNear = (line) =>
  from(line) !== line.written ||
  line.outages.some(([, end]) => line.written - end < 10_000 && line.written >= end);
for (const [id, line] of lines) {
  if (line.arrived === undefined) {
    missing++;
    if (missing <= 10) process.stdout.write(`missing ${id} written ${line.written - started} ms in\n`);
  } else {
    const late = line.arrived - from(line);
    latencies.push(late);
    const kind =
      line.downUntil > 0 ? 'during an outage' : outageNear(line) ? 'within 10 s of an outage' : line.kind;
    worstByKind[kind] = Math.max(worstByKind[kind] ?? 0, late);
    if (late > STALL_MS) stalls++;
  }
}
latencies.sort((a, b) => a - b);
const worst = [...lines]
  .filter(([, l]) => l.arrived !== undefined && !outageNear(l))
  .sort(([, a], [, b]) => b.arrived - b.written - (a.arrived - a.written))
  .slice(0, 5)
  .map(([id, l]) => `${id} ${l.kind} at ${l.written - started} ms: ${l.arrived - l.written} ms`);
if (process.env.STALL_VERBOSE) process.stdout.write(`${worst.join('\n')}\n`);
const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
process.stdout.write(
  `${JSON.stringify({
    checkout: values.checkout,
    seed: values.seed,
    sidecars: SIDECARS,
    lines: lines.size,
    stalls,
    missing,
    latencyMs: { p50: q(0.5), p99: q(0.99), max: latencies.at(-1) },
    worstMsByKind: worstByKind,
  })}\n`,
);
for (const { child, server } of children) {
  child.kill('SIGTERM');
  server.closeAllConnections();
  server.close();
}
await Promise.all(
  children.map(({ child }) => new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)))),
);
for (const [i, { child, stderr }] of children.entries()) {
  if (child.exitCode !== 0)
    process.stdout.write(`sidecar ${i} exited ${child.exitCode}: ${stderr.slice(-500)}\n`);
}
rmSync(root, { recursive: true, force: true });
process.exitCode = stalls > 0 || missing > 0 ? 1 : 0;
