import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpReceiver, waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { httpArgs, logSidecars, tempDir } from './log-sidecar-process.js';

const processes = logSidecars();
const receivers: HttpReceiver[] = [];
afterEach(async () => {
  await processes.cleanup();
  for (const r of receivers.splice(0)) await r.close();
});

const BOUND = 256 * 1024;
/** What one record of the lines below counts against the bound: its bytes plus the 256 of its objects. */
const RECORD_COST = 200 + 256;

describe('log-sidecar buffer bound (built binary)', () => {
  it('pauses reading within one record of --buffer-max-bytes, then delivers every line', async () => {
    const dir = tempDir();
    const ids = new Set<string>();
    const receiver = new HttpReceiver((req, res) => {
      for (const line of req.body.split('\n'))
        if (line !== '') ids.add((JSON.parse(line) as { id: string }).id);
      res.writeHead(200).end();
    });
    receivers.push(receiver);
    const url = await receiver.start();
    // 20,000 lines of 200 bytes (3.8 MiB, ~15 reads of the 256 KiB read buffer), all there at start.
    let text = '';
    for (let i = 0; i < 20_000; i++) text += `${`line ${i} `.padEnd(199, 'x')}\n`;
    writeFileSync(join(dir, 'app.log'), text);
    // One batch that seals only by time: every record read stays held, so only the bound stops reading.
    const sidecar = processes.start(
      httpArgs(dir, url, [
        '--buffer-max-bytes',
        `${BOUND / 1024}KiB`,
        '--batch-max-records',
        '100000',
        '--batch-max-bytes',
        '64MiB',
        '--batch-timeout',
        '1m',
      ]),
    );
    await sidecar.ready();
    let held = 0;
    await waitFor('reading to fill the buffer', async () => {
      held = await sidecar.metric('log_sidecar_delivery_buffered_bytes');
      return held >= BOUND;
    });
    // A read is framed in one go, so the read that reached the bound is all in: it stopped at its record.
    expect(held).toBeLessThan(BOUND + RECORD_COST);
    expect(await sidecar.metric('log_sidecar_records_read_total')).toBe(Math.ceil(BOUND / RECORD_COST));
    expect(ids.size).toBe(0);
    // SIGTERM: the batch goes out, the rest of the file is read and sent; nothing was lost to the pause.
    expect(await sidecar.stop()).toBe(0);
    expect(ids.size).toBe(20_000);
  }, 60_000);
});
