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

const LINES = 3000;
const LINE_BYTES = 200;

/** Starts a receiver that keeps, per request, the file bytes of its records (message + newline). */
async function receiver(ids: Set<string>, requestBytes: number[]): Promise<URL> {
  const r = new HttpReceiver((req, res) => {
    let bytes = 0;
    for (const line of req.body.split('\n')) {
      if (line === '') continue;
      const record = JSON.parse(line) as { message: string };
      ids.add(record.message.slice(0, record.message.indexOf(' ', 5)));
      bytes += Buffer.byteLength(record.message) + 1;
    }
    requestBytes.push(bytes);
    res.writeHead(200).end();
  });
  receivers.push(r);
  return r.start();
}

/** A cold file of LINES lines of LINE_BYTES bytes, all there at start (batches grow while behind). */
function coldFile(): string {
  const dir = tempDir();
  let text = '';
  for (let i = 0; i < LINES; i++) text += `${`line ${i} `.padEnd(LINE_BYTES - 1, 'x')}\n`;
  writeFileSync(join(dir, 'app.log'), text);
  return dir;
}

describe('log-sidecar: a small --buffer-max-bytes sizes the batches (built binary)', () => {
  it('sends batches of at most a sixteenth of the bound, and every line', async () => {
    const ids = new Set<string>();
    const requestBytes: number[] = [];
    const dir = coldFile();
    const url = await receiver(ids, requestBytes);
    const sidecar = processes.start(httpArgs(dir, url, ['--buffer-max-bytes', '256KiB']));
    await sidecar.ready();
    await waitFor('every line delivered', () => ids.size === LINES);
    expect(await sidecar.stop()).toBe(0);
    // A batch is sealed by the record that reaches the bound: at most one line over 16 KiB.
    expect(Math.max(...requestBytes)).toBeLessThan(16 * 1024 + LINE_BYTES);
    expect(requestBytes.length).toBeGreaterThanOrEqual(
      Math.ceil((LINES * LINE_BYTES) / (16 * 1024 + LINE_BYTES)),
    );
    const [logged] = sidecar.logged(
      'Batches of at most a sixteenth of --buffer-max-bytes (set --batch-max-bytes to choose).',
    );
    expect(logged).toMatchObject({ batchMaxBytes: 16 * 1024, readBufferBytes: 16 * 1024 });
  }, 60_000);

  it('keeps a --batch-max-bytes the user set', async () => {
    const ids = new Set<string>();
    const requestBytes: number[] = [];
    const dir = coldFile();
    const url = await receiver(ids, requestBytes);
    const sidecar = processes.start(
      httpArgs(dir, url, ['--buffer-max-bytes', '256KiB', '--batch-max-bytes', '64KiB']),
    );
    await sidecar.ready();
    await waitFor('every line delivered', () => ids.size === LINES);
    expect(await sidecar.stop()).toBe(0);
    expect(
      sidecar.logged(
        'Batches of at most a sixteenth of --buffer-max-bytes (set --batch-max-bytes to choose).',
      ),
    ).toEqual([]);
    expect(Math.max(...requestBytes)).toBeGreaterThan(16 * 1024 + LINE_BYTES);
    expect(Math.max(...requestBytes)).toBeLessThan(64 * 1024 + LINE_BYTES);
  }, 60_000);
});
