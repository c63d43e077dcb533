// Idle CPU and RSS of several log-sidecar variants at once: each reads its own directory of 1000 JSON
// lines into one counting HTTP receiver on 127.0.0.1, settles 12 s, then is measured over --seconds.
// CPU is the sum of every thread's /proc/PID/task/*/schedstat run time (nanoseconds, so a 0.1 % idle
// is resolved; utime+stime from /proc/PID/stat counts 10 ms ticks). Variants run side by side, so a
// change in the machine's load falls on all of them; build every checkout first.
//   node bench/log-sidecar/idle-variants.mjs [--seconds 90] [--lines 1000] \
//     'label|/path/to/checkout|node flags|sidecar args|ENV=1,ENV2=2' ...
// e.g. 'main|/tmp/base||' 'slow reads|.||--read-interval 2s' 'no opt|.|--no-opt||'
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  options: { seconds: { type: 'string', default: '90' }, lines: { type: 'string', default: '1000' } },
  allowPositionals: true,
});
if (positionals.length === 0) {
  console.error("give at least one variant: 'label|checkout|node flags|sidecar args|ENV=value,...'");
  process.exit(2);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const split = (text) => (text ?? '').split(' ').filter(Boolean);
/** Run time of every thread of `pid`, in ns. */
function runNs(pid) {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return ns;
}
const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

let received = 0;
const server = createServer((req, res) => {
  req.on('data', (c) => {
    for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) received++;
  });
  req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/`;

const runs = positionals.map((spec) => {
  const [label, checkout, flags, args, env] = spec.split('|');
  const dir = mkdtempSync(join(tmpdir(), 'idle-variant-'));
  let text = '';
  for (let i = 0; i < Number(values.lines); i++)
    text += `${JSON.stringify({ ts: Date.now() / 1000, msg: 'hello', i })}\n`;
  writeFileSync(join(dir, 'app.log'), text);
  const main = join(resolve(checkout), 'packages/log-sidecar/dist/main.js');
  const extraEnv = Object.fromEntries(
    (env ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split('=')),
  );
  const child = spawn(
    process.execPath,
    [
      ...split(flags),
      main,
      ...['--path', join(dir, '*.log'), '--checkpoint-dir', join(dir, 'ckpt'), '--listen', '127.0.0.1:0'],
      ...[
        '--format',
        'json',
        '--log-level',
        'warn',
        '--sink',
        'http',
        '--sink-url',
        url,
        '--sink-gzip',
        'false',
      ],
      ...split(args),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { PATH: process.env.PATH, ...extraEnv } },
  );
  return { label, child, dir, ns0: 0 };
});
process.on('exit', () => {
  for (const { child } of runs) if (child.exitCode === null) child.kill('SIGKILL');
});
await sleep(12_000);
for (const run of runs) run.ns0 = runNs(run.child.pid);
const t0 = process.hrtime.bigint();
await sleep(Number(values.seconds) * 1000);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(`| variant | CPU % of a core | RSS MiB |\n|---|---|---|`);
for (const run of runs) {
  const cpu = (runNs(run.child.pid) - run.ns0) / 1e7 / seconds;
  console.log(`| ${run.label} | ${cpu.toFixed(3)} | ${rssMiB(run.child.pid).toFixed(1)} |`);
}
await Promise.all(
  runs.map(({ child }) => {
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGTERM');
    return exited;
  }),
);
for (const { dir } of runs) rmSync(dir, { recursive: true, force: true });
server.close();
server.closeAllConnections();
if (received < runs.length * Number(values.lines)) {
  console.error(`only ${received} of ${runs.length * Number(values.lines)} lines arrived`);
  process.exit(1);
}
