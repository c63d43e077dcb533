// Appends `rate` JSON lines a second to `path` for `seconds`, one write() per line like Python logging.
import { closeSync, openSync, writeSync } from 'node:fs';

const [path, rateText = '10000', secondsText = '25'] = process.argv.slice(2);
const rate = Number(rateText);
const fd = openSync(path, 'a');
const started = Date.now();
let written = 0;
const timer = setInterval(() => {
  const elapsed = Date.now() - started;
  if (elapsed > Number(secondsText) * 1000) {
    clearInterval(timer);
    closeSync(fd);
    return;
  }
  const due = Math.floor((elapsed / 1000) * rate);
  for (; written < due; written++) {
    writeSync(
      fd,
      `${JSON.stringify({ ts: Date.now() / 1000, level: 'info', msg: 'request finished', path: '/v1/chat', status: 200, seq: written, pad: 'z'.repeat(60) })}\n`,
    );
  }
}, 5);
process.on('SIGTERM', () => process.exit(0));
