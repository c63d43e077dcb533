#!/usr/bin/env node
// Peak memory of the built metrics-sidecar under hostile targets, with its default limits
// (run `pnpm exec tsc -b` first):
//   node bench/metrics-sidecar/hostile.mjs [--scenario all|max-valid|million|gzip-bomb|big-body|slowloris|fifteen]
//       [--seconds 25] [--node-options "--max-old-space-size=..."]
// Each scenario starts one sidecar (defaults but --interval 5s --timeout 4s, so that a run sees several
// scrapes), scrapes it as Prometheus would (OpenMetrics and text, gzip) every second, and reports VmHWM,
// the peak resident set, from /proc. The k8s limit is 128Mi; the budget with 25 % headroom is 96 MiB.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'all' },
    seconds: { type: 'string', default: '25' },
    'node-options': { type: 'string', default: '' },
    'max-valid': { type: 'string', default: '11990' },
  },
});
/** Samples of the max-valid target: just under the default --sample-limit. */
const MAX_VALID = Number(values['max-valid']);
const MAIN = fileURLToPath(new URL('../../packages/metrics-sidecar/dist/main.js', import.meta.url));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Lines of `count` counter samples, about 60 bytes each. */
function counters(count, from = 0) {
  const lines = ['# TYPE hostile_series_total counter'];
  for (let i = from; i < from + count; i++)
    lines.push(`hostile_series_total{id="${i}",shard="s${i % 97}"} ${i}`);
  return `${lines.join('\n')}\n`;
}

const BODIES = {
  // The largest body the defaults let through: just under --sample-limit 12000, under --body-limit.
  'max-valid': () => ({ body: Buffer.from(counters(MAX_VALID)) }),
  // A million series (about 55 MB): the sample limit stops it.
  million: () => ({ body: Buffer.from(counters(1_000_000)) }),
  // 1 GiB of samples gzipped to about 1 MB: the body limit stops the inflating.
  'gzip-bomb': () => {
    const line = Buffer.from('bomb{a="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"} 1\n');
    const chunk = Buffer.alloc(line.length * 16384);
    for (let k = 0; k < 16384; k++) line.copy(chunk, k * line.length);
    const whole = Buffer.concat(Array.from({ length: Math.ceil(2 ** 30 / chunk.length) }, () => chunk));
    return { body: gzipSync(whole, { level: 9 }), gzip: true };
  },
  // 50 MB of long label values, few samples: the body limit stops it.
  'big-body': () => {
    const value = 'v'.repeat(4000);
    const lines = [];
    for (let i = 0; i < 12_500; i++) lines.push(`big{id="${i}",v="${value}"} 1`);
    return { body: Buffer.from(`${lines.join('\n')}\n`) };
  },
  // Headers, then a byte every 50 ms: the timeout stops it.
  slowloris: () => ({ body: Buffer.from(counters(1000)), drip: true }),
};

function startTarget(make) {
  const { body, gzip, drip } = make();
  const server = createServer((req, res) => {
    res.writeHead(200, {
      'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
    });
    if (!drip) {
      res.end(body);
      return;
    }
    let at = 0;
    const timer = setInterval(() => {
      if (at >= body.length || res.destroyed) {
        clearInterval(timer);
        res.end();
        return;
      }
      res.write(body.subarray(at, at + 1));
      at++;
    }, 50);
    req.on('close', () => clearInterval(timer));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${server.address().port}/metrics` }),
    ),
  );
}

function status(pid, field) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Number(line.split(/\s+/)[1]) / 1024;
}

function get(url, headers) {
  return new Promise((resolve) => {
    const req = request(url, { headers }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', resolve);
    req.end();
  });
}

async function run(name, kinds) {
  const targets = [];
  for (const kind of kinds) targets.push(await startTarget(BODIES[kind]));
  const args = [
    MAIN,
    '--listen',
    '127.0.0.1:0',
    '--interval',
    '5s',
    '--timeout',
    '4s',
    '--log-level',
    'warn',
  ];
  targets.forEach((target, k) => {
    args.push('--target', `t${k}-${kinds[k]}=${target.url}`);
  });
  const nodeArgs = values['node-options'] ? values['node-options'].split(' ') : [];
  const child = spawn(process.execPath, [...nodeArgs, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let port;
  child.stderr.setEncoding('utf8').on('data', () => {});
  // The listening port, from /proc: the listen line is at info and we log at warn.
  for (let k = 0; k < 200 && port === undefined; k++) {
    await sleep(50);
    try {
      const { execFileSync } = await import('node:child_process');
      const out = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' });
      const line = out.split('\n').find((l) => l.includes(`pid=${child.pid},`));
      if (line) port = Number(line.split(/\s+/)[3].split(':').pop());
    } catch {}
  }
  const base = `http://127.0.0.1:${port}/metrics`;
  const deadline = Date.now() + Number(values.seconds) * 1000;
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  let peak = 0;
  while (Date.now() < deadline && !exited) {
    await get(base, { Accept: 'application/openmetrics-text;version=1.0.0', 'Accept-Encoding': 'gzip' });
    await get(base, { 'Accept-Encoding': 'gzip' });
    peak = status(child.pid, 'VmHWM');
    await sleep(1000);
  }
  const exitedEarly = exited;
  const rss = exited ? Number.NaN : status(child.pid, 'VmRSS');
  child.kill('SIGTERM');
  await new Promise((resolve) => (exited ? resolve() : child.on('exit', resolve)));
  for (const target of targets) {
    target.server.closeAllConnections();
    target.server.close();
  }
  console.log(
    `| ${name} | ${kinds.length} | ${peak.toFixed(1)} MiB | ${rss.toFixed(1)} MiB |${exitedEarly ? ' exited early |' : ''}`,
  );
}

const SCENARIOS = {
  'max-valid': ['max-valid'],
  million: ['million'],
  'gzip-bomb': ['gzip-bomb'],
  'big-body': ['big-body'],
  slowloris: ['slowloris'],
  // 15 hostile targets at once: three of each kind.
  fifteen: ['max-valid', 'million', 'gzip-bomb', 'big-body', 'slowloris'].flatMap((kind) => [
    kind,
    kind,
    kind,
  ]),
};
console.log(
  `Command: node bench/metrics-sidecar/hostile.mjs --scenario ${values.scenario} --seconds ${values.seconds}`,
);
console.log('');
console.log('| Scenario | Targets | Peak RSS (VmHWM) | RSS at the end |');
console.log('|---|---|---|---|');
for (const [name, kinds] of Object.entries(SCENARIOS)) {
  if (values.scenario === 'all' || values.scenario === name) await run(name, kinds);
}
