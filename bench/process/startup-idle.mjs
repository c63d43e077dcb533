#!/usr/bin/env node
// Startup time and idle RSS of one sidecar process, for issue 16's process-level levers (bundling, node
// flags, the image's node binary, malloc tunables). Alternates the variants given, rep by rep, and prints
// each run and the medians.
//
//   node bench/process/startup-idle.mjs [--reps 3] [--settle 10] [--sidecar log-sidecar|metrics-sidecar]
//        [--heap-spaces] 'name|/path/to/node|/path/to/main.js|--node-flag ...|ENV=1 ENV2=2' ...
//
// startup = spawn to the first 200 from /readyz (log-sidecar: its HTTP sink is configured and the one
// 1,000-line file read; metrics-sidecar: its first scrape of a 10,000-series target in this process is
// served). RSS = VmRSS after --settle seconds more, with the smaps_rollup split (file-backed vs anonymous).
// --heap-spaces preloads heap-spaces.mjs and prints V8's committed size (used) per heap space at the end
// of the settle time (node's own figures: which space grows between node versions or flags).
// All traffic on 127.0.0.1; every child is stopped by its PID.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { targetBody, targetHandler } from '../metrics-sidecar/target-body.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    reps: { type: 'string', default: '3' },
    settle: { type: 'string', default: '10' },
    sidecar: { type: 'string', default: 'log-sidecar' },
    'heap-spaces': { type: 'boolean', default: false },
  },
});
if (!['log-sidecar', 'metrics-sidecar'].includes(values.sidecar)) {
  console.error(`--sidecar must be log-sidecar or metrics-sidecar, not '${values.sidecar}'`);
  process.exit(2);
}
const variants = positionals.map((spec) => {
  const [name, node, main, flags = '', env = ''] = spec.split('|');
  if (!name || !node || !main) {
    console.error(`variant '${spec}': expected 'name|node|main.js[|flags[|ENV=v ...]]'`);
    process.exit(2);
  }
  return {
    name,
    node,
    main,
    flags: flags.split(' ').filter(Boolean),
    env: Object.fromEntries(
      env
        .split(' ')
        .filter(Boolean)
        .map((kv) => kv.split(/=(.*)/s).slice(0, 2)),
    ),
  };
});
if (variants.length === 0) {
  console.error('give at least one variant');
  process.exit(2);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const status = (pid, field) =>
  Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const rollup = (pid, field) =>
  Number(
    new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))[1],
  ) / 1024;
const ready = (port) =>
  new Promise((r) => {
    const req = get({ host: '127.0.0.1', port, path: '/readyz' }, (res) => {
      res.resume();
      r(res.statusCode === 200);
    });
    req.on('error', () => r(false));
  });

// Sinks and targets shared by every run.
const sink = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
const body = targetBody();
const target = createServer(targetHandler(body, gzipSync(body), () => {}));
await Promise.all([sink, target].map((s) => new Promise((r) => s.listen(0, '127.0.0.1', r))));

let nextPort = 20_000 + (process.pid % 20_000);
async function run(v) {
  const dir = mkdtempSync(join(tmpdir(), 'startup-idle-'));
  const port = nextPort++;
  const args =
    values.sidecar === 'log-sidecar'
      ? (() => {
          const file = join(dir, 'app.log');
          writeFileSync(file, `${'{"level":"info","msg":"hello"}\n'.repeat(1000)}`);
          return [
            ...['--path', file, '--checkpoint-dir', join(dir, 'ckpt'), '--listen', `127.0.0.1:${port}`],
            ...[
              '--sink',
              'http',
              '--sink-url',
              `http://127.0.0.1:${sink.address().port}/`,
              '--log-level',
              'warn',
            ],
          ];
        })()
      : [
          ...[
            '--listen',
            `127.0.0.1:${port}`,
            '--target',
            `app=http://127.0.0.1:${target.address().port}/metrics`,
          ],
          ...['--interval', '15s', '--log-level', 'warn'],
        ];
  const heapFile = join(dir, 'heap-spaces.json');
  const preload = values['heap-spaces']
    ? ['--import', new URL('./heap-spaces.mjs', import.meta.url).href]
    : [];
  const started = process.hrtime.bigint();
  const child = spawn(v.node, [...v.flags, ...preload, v.main, ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { PATH: process.env.PATH, ...v.env, ...(preload.length ? { HEAP_SPACES_FILE: heapFile } : {}) },
  });
  const exited = new Promise((r) => child.on('exit', r));
  try {
    const end = Date.now() + 30_000;
    while (!(await ready(port))) {
      if (child.exitCode !== null || Date.now() > end) throw new Error(`${v.name}: never ready`);
      await sleep(2);
    }
    const startupMs = Number(process.hrtime.bigint() - started) / 1e6;
    await sleep(Number(values.settle) * 1000);
    return {
      startupMs,
      rss: status(child.pid, 'VmRSS'),
      hwm: status(child.pid, 'VmHWM'),
      file: rollup(child.pid, 'Rss') - rollup(child.pid, 'Anonymous'),
      anon: rollup(child.pid, 'Anonymous'),
      heap: preload.length ? JSON.parse(readFileSync(heapFile, 'utf8')) : null,
    };
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

const mib = (bytes) => (bytes / 1048576).toFixed(1);
/** 'total 20.1 (used 13.3): new_space 4.1 (0.9), ...' in MiB, spaces with nothing committed left out. */
function heapLine(h) {
  const spaces = Object.entries(h.spaces)
    .filter(([, s]) => s.size > 0)
    .map(([name, s]) => `${name} ${mib(s.size)} (${mib(s.used)})`);
  return `total ${mib(h.total)} (used ${mib(h.used)}), external ${mib(h.external)}, malloced ${mib(h.malloced)}: ${spaces.join(', ')}`;
}

const results = new Map(variants.map((v) => [v.name, []]));
for (let rep = 0; rep < Number(values.reps); rep++) {
  const order = rep % 2 === 0 ? variants : [...variants].reverse();
  for (const v of order) {
    const r = await run(v);
    results.get(v.name).push(r);
    console.log(
      `${values.sidecar} ${v.name} rep ${rep + 1}: startup ${r.startupMs.toFixed(0)} ms, RSS ${r.rss.toFixed(1)} MiB (file ${r.file.toFixed(1)}, anon ${r.anon.toFixed(1)}), peak ${r.hwm.toFixed(1)}`,
    );
    if (r.heap) console.log(`  heap ${heapLine(r.heap)}`);
  }
}
console.log(
  `\n| ${values.sidecar} (median of ${values.reps}) | startup ms | RSS MiB | file-backed | anonymous | peak |`,
);
console.log('|---|---|---|---|---|---|');
for (const [name, rs] of results) {
  const m = (k) => median(rs.map((r) => r[k]));
  console.log(
    `| ${name} | ${m('startupMs').toFixed(0)} | ${m('rss').toFixed(1)} | ${m('file').toFixed(1)} | ${m('anon').toFixed(1)} | ${m('hwm').toFixed(1)} |`,
  );
}
sink.close();
target.close();
