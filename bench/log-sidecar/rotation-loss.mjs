// How many lines rotation loses for a given rotation rate, backup count and --scan-interval.
// Writes like Python's RotatingFileHandler (the file renamed to .1, .1 to .2, ..., the oldest beyond
// --backups deleted), reads the sidecar's stdout, and counts lines never shipped plus what the sidecar
// itself counted as lost (log_sidecar_bytes_lost_unread_total is not read here: its warning lines are).
//   node bench/log-sidecar/rotation-loss.mjs --rate 27 --backups 5 --scan-interval 1s [--files 40] [--runs 3]
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const MAIN = fileURLToPath(new URL('../../packages/log-sidecar/dist/main.js', import.meta.url));
const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '27' },
    backups: { type: 'string', default: '5' },
    'scan-interval': { type: 'string', default: '1s' },
    files: { type: 'string', default: '40' },
    lines: { type: 'string', default: '100' },
    runs: { type: 'string', default: '3' },
  },
});
const rate = Number(values.rate);
const backups = Number(values.backups);
const files = Number(values.files);
const perFile = Number(values.lines);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function rotate(log) {
  const oldest = `${log}.${backups}`;
  if (existsSync(oldest)) unlinkSync(oldest);
  for (let i = backups - 1; i >= 1; i--)
    if (existsSync(`${log}.${i}`)) renameSync(`${log}.${i}`, `${log}.${i + 1}`);
  if (backups > 0) renameSync(log, `${log}.1`);
  else unlinkSync(log);
  writeFileSync(log, '');
}

async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'rotation-loss-'));
  const log = join(dir, 'app.log');
  writeFileSync(log, '');
  const child = spawn(
    process.execPath,
    [
      MAIN,
      '--path',
      log,
      '--listen',
      '127.0.0.1:0',
      '--scan-interval',
      values['scan-interval'],
      '--batch-timeout',
      '50ms',
      '--checkpoint-dir',
      join(dir, '.ckpt'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const seen = new Set();
  let rest = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const line of lines) seen.add(JSON.parse(line).fields.seq);
  });
  let warned = 0;
  let lostBytes = 0;
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    stderr += chunk;
    const lines = stderr.split('\n');
    stderr = lines.pop();
    for (const line of lines) {
      if (line.includes('File gone before it was read to its end')) {
        warned++;
        lostBytes += JSON.parse(line).bytes;
      }
    }
  });
  await sleep(1500);
  let seq = 0;
  const started = Date.now();
  for (let f = 0; f < files; f++) {
    let text = '';
    for (let n = 0; n < perFile; n++) text += `${JSON.stringify({ seq: seq++, pad: 'r'.repeat(80) })}\n`;
    appendFileSync(log, text);
    await sleep(Math.max(0, started + ((f + 1) * 1000) / rate - Date.now()));
    rotate(log);
  }
  const measuredRate = files / ((Date.now() - started) / 1000);
  await sleep(4000);
  child.kill('SIGTERM');
  const code = await new Promise((resolve) => child.on('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
  return { lost: seq - seen.size, total: seq, measuredRate, code, warned, lostBytes };
}

const results = [];
for (let i = 0; i < Number(values.runs); i++) results.push(await run());
const lost = results.map((r) => r.lost).sort((a, b) => a - b);
console.log(
  JSON.stringify({
    rate,
    backups,
    scanInterval: values['scan-interval'],
    total: results[0].total,
    lostPerRun: results.map((r) => r.lost),
    medianLost: lost[Math.floor(lost.length / 2)],
    measuredRates: results.map((r) => Number(r.measuredRate.toFixed(1))),
    exitCodes: results.map((r) => r.code),
    goneUnreadWarnings: results.map((r) => r.warned),
  }),
);
