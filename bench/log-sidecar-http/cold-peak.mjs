#!/usr/bin/env node
// Peak RSS of the log-sidecar reading a cold file at full speed, raw lines to a counting receiver on
// loopback, in this process's node with the V8 flags given: for the issue-16 memory figures, and to run
// inside the image (where node sizes V8 from the container's memory limit):
//
//   node bench/log-sidecar-http/cold-peak.mjs ['--max-semi-space-size=4 --max-old-space-size=96'] [FILE]
//   docker run --rm --network none --memory 320m --user 0 -v "$PWD:$PWD:ro" -v /tmp:/tmp -w "$PWD" \
//     --entrypoint /nodejs/bin/node agent-sidecars/log-sidecar:0.1.0 bench/log-sidecar-http/cold-peak.mjs '--flags'
//
// FILE defaults to bench/.data/lines-2000000.log (bench/side-by-side/run.mjs makes it). The receiver runs
// in this process, so in a container both share the memory limit (320m: V8's sizing is the same as at
// 192m, both clamp to its minimum). Prints lines/s, CPU s and VmHWM of the sidecar. Build first.
// COLD_PEAK_ARGS: more sidecar options (e.g. '--buffer-max-bytes 5MiB'). MALLOC_*, UV_THREADPOOL_SIZE and PEAK_SNAPSHOT_FILE are passed on to the sidecar when set; where its
// memory is at the peak: '--import=<abs path>/bench/log-sidecar-http/peak-snapshot.mjs' in the flags.
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const flags = (process.argv[2] ?? '').split(' ').filter(Boolean);
const file = process.argv[3] ?? join(root, 'bench/.data/lines-2000000.log');
// Counted by streaming (also brings the file into the page cache), never held: in a container the receiver
// shares the sidecar's memory limit.
let total = 0;
for await (const c of createReadStream(file)) {
  for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) total++;
}
let lines = 0;
const server = createServer((req, res) => {
  req.on('data', (c) => {
    for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) lines++;
  });
  req.on('end', () => res.end('{}'));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const dir = mkdtempSync(join(tmpdir(), 'cold-peak-'));
const started = Date.now();
const child = spawn(
  process.execPath,
  [
    ...flags,
    join(root, 'packages/log-sidecar/dist/main.js'),
    ...['--path', file, '--checkpoint-dir', join(dir, 'ckpt'), '--listen', '127.0.0.1:0'],
    ...['--format', 'raw', '--log-level', 'warn', '--sink', 'http', '--sink-gzip', 'false'],
    ...['--sink-url', `http://127.0.0.1:${server.address().port}/`],
    ...(process.env.COLD_PEAK_ARGS ?? '').split(' ').filter(Boolean),
  ],
  { stdio: ['ignore', 'ignore', 'inherit'], env: childEnv() },
);
/** PATH, and the allocator/thread-pool variables when set (to measure what they do). */
function childEnv() {
  const env = { PATH: process.env.PATH };
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(MALLOC_|UV_THREADPOOL_SIZE$|PEAK_SNAPSHOT_FILE$)/.test(name)) env[name] = value;
  }
  return env;
}
const status = () => readFileSync(`/proc/${child.pid}/status`, 'utf8');
const cpu = () => {
  const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const deadline = Date.now() + 300_000;
while (lines < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
const seconds = (Date.now() - started) / 1000;
console.log(
  JSON.stringify({
    node: process.version,
    flags: flags.join(' '),
    pid: child.pid,
    delivered: lines === total,
    linesPerSecond: Math.round(total / seconds),
    cpuSeconds: cpu(),
    peakRssMiB: Number(/VmHWM:\s+(\d+)/.exec(status())[1]) / 1024,
  }),
);
child.kill('SIGTERM');
await new Promise((r) => child.on('exit', r));
server.close();
server.closeAllConnections();
rmSync(dir, { recursive: true, force: true });
