#!/usr/bin/env node
// Where a real metrics-sidecar's CPU goes over time, second by second (build first: `pnpm run build`):
//   node bench/metrics-sidecar/timeline.mjs [--interval 15s] [--seconds 90] [--node PATH] [--dist DIR]
//        [--env 'NAME=value ...'] [-- node flags...]
// Starts the sidecar (this checkout's, or the metrics-sidecar dist in --dist) on the 10,000-series
// OpenMetrics target of target-body.mjs (served gzipped from this process), answers one OpenMetrics+gzip GET
// 50 ms after each scrape as the Prometheus scraping it would, and prints, for every second, the CPU its
// main thread and all its other threads (V8's GC and compiler threads, libuv's pool: zlib) used in it, from
// /proc/PID/task/*/schedstat (nanoseconds, unlike the 10 ms ticks of /proc/PID/stat). The lines of seconds
// with a scrape show what one scrape costs (JIT warm-up included: compare the first scrapes with later ones);
// the others what the process costs between scrapes. Ends with the totals: per scrape (the seconds with a
// scrape), between scrapes, and the last scrapes' median. Everything is on 127.0.0.1; the sidecar is
// stopped by its PID. The last line compares the whole run's CPU by the scheduler with utime+stime in clock ticks.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { getAsPrometheus, targetBody, targetHandler } from './target-body.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    interval: { type: 'string', default: '15s' },
    seconds: { type: 'string', default: '90' },
    node: { type: 'string', default: process.execPath },
    dist: {
      type: 'string',
      default: fileURLToPath(new URL('../../packages/metrics-sidecar/dist', import.meta.url)),
    },
    env: { type: 'string', default: '' },
  },
});
const seconds = Number(values.seconds);
const intervalMs = /^(\d+)(ms|s)$/.exec(values.interval);
if (!intervalMs || !(seconds > 0)) {
  console.error('--interval takes a duration such as 15s or 300ms, --seconds a positive number');
  process.exit(2);
}
const interval = Number(intervalMs[1]) * (intervalMs[2] === 's' ? 1000 : 1);
const env = { ...process.env };
for (const pair of values.env.split(' ').filter(Boolean)) {
  const eq = pair.indexOf('=');
  if (eq < 1) {
    console.error(`--env takes NAME=value pairs separated by spaces, not '${pair}'`);
    process.exit(2);
  }
  env[pair.slice(0, eq)] = pair.slice(eq + 1);
}

const body = Buffer.from(targetBody());
let scrapes = 0;
const target = createServer(targetHandler(body, gzipSync(body), () => scrapes++));
await new Promise((resolve) => target.listen(0, '127.0.0.1', resolve));
const probe = createServer();
const port = await new Promise((resolve) =>
  probe.listen(0, '127.0.0.1', () => {
    const { port: free } = probe.address();
    probe.close(() => resolve(free));
  }),
);
const child = spawn(
  values.node,
  [
    ...positionals,
    `${values.dist}/main.js`,
    '--listen',
    `127.0.0.1:${port}`,
    '--target',
    `app=http://127.0.0.1:${target.address().port}/metrics`,
    '--log-level',
    'warn',
    '--interval',
    `${interval}ms`,
    '--timeout',
    `${Math.min(10_000, Math.round(interval * 0.8))}ms`,
  ],
  { stdio: ['ignore', 'ignore', 'inherit'], env },
);
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU ms so far of the main thread and of all the others. */
function threadCpu() {
  let main = 0;
  let other = 0;
  for (const task of readdirSync(`/proc/${child.pid}/task`)) {
    let ns;
    try {
      ns = Number(readFileSync(`/proc/${child.pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      continue; // a thread that ended between the listing and the read
    }
    if (task === String(child.pid)) main += ns / 1e6;
    else other += ns / 1e6;
  }
  return { main, other };
}

/** utime + stime of the whole process in ms, from /proc/PID/stat (clock ticks, as the side-by-side harness reads it). */
function tickCpu() {
  const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * (1000 / CLK_TCK);
}

const started = Date.now();
const ticksAtStart = tickCpu();
const atStart = threadCpu();
let answered = 0;
let before = threadCpu();
const rows = [];
for (let s = 0; s < seconds; s++) {
  const scrapesBefore = scrapes;
  while (Date.now() < started + (s + 1) * 1000) {
    if (scrapes !== answered) {
      answered = scrapes;
      await sleep(50);
      await getAsPrometheus(port);
    }
    await sleep(20);
  }
  const now = threadCpu();
  const row = {
    second: s + 1,
    scraped: scrapes > scrapesBefore,
    main: now.main - before.main,
    other: now.other - before.other,
  };
  before = now;
  rows.push(row);
  console.log(
    `${String(row.second).padStart(4)} s ${row.scraped ? 'scrape' : '      '} main ${row.main.toFixed(1).padStart(6)} ms  other threads ${row.other.toFixed(1).padStart(6)} ms`,
  );
}
const ticks = tickCpu() - ticksAtStart;
const end = threadCpu();
child.kill('SIGTERM');
await new Promise((resolve) => child.once('exit', resolve));
target.close();

const sum = (xs, key) => xs.reduce((total, row) => total + row[key], 0);
const scraped = rows.filter((row) => row.scraped).slice(1); // the first includes the process's start
const idle = rows.filter((row) => !row.scraped);
const late = scraped
  .slice(-3)
  .map((row) => row.main + row.other)
  .sort((a, b) => a - b);
console.log(
  `scrapes after the first: ${scraped.length}, ${((sum(scraped, 'main') + sum(scraped, 'other')) / scraped.length).toFixed(1)} ms each (main ${(sum(scraped, 'main') / scraped.length).toFixed(1)}); between scrapes ${idle.length === 0 ? '-' : ((sum(idle, 'main') + sum(idle, 'other')) / idle.length).toFixed(2)} ms a second; the last 3 scrapes' median ${late[1]?.toFixed(1) ?? '-'} ms`,
);
console.log(
  `whole run: ${(end.main - atStart.main + end.other - atStart.other).toFixed(0)} ms by the scheduler (schedstat), ${ticks.toFixed(0)} ms by utime+stime ticks`,
);
