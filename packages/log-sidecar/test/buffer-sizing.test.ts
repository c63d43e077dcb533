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

const READ_MESSAGE = 'Reads of a thirty-second of --buffer-max-bytes.';

/** Starts a receiver that keeps every record's message. */
async function receiver(messages: string[]): Promise<URL> {
  const r = new HttpReceiver((req, res) => {
    for (const line of req.body.split('\n'))
      if (line !== '') messages.push((JSON.parse(line) as { message: string }).message);
    res.writeHead(200).end();
  });
  receivers.push(r);
  return r.start();
}

describe('log-sidecar: a small --buffer-max-bytes makes reads small (built binary)', () => {
  it('reads 16 KiB at a time with a 256 KiB bound, and lines longer than a read arrive whole', async () => {
    const dir = tempDir();
    // Short lines and 40 KiB ones (each spans three reads), all there at start.
    const lines: string[] = [];
    for (let i = 0; i < 600; i++) lines.push(`line ${i} `.padEnd(i % 50 === 7 ? 40_000 : 199, 'x'));
    writeFileSync(join(dir, 'app.log'), `${lines.join('\n')}\n`);
    const messages: string[] = [];
    const url = await receiver(messages);
    const sidecar = processes.start(httpArgs(dir, url, ['--buffer-max-bytes', '256KiB']));
    await sidecar.ready();
    await waitFor('every line delivered', () => messages.length >= lines.length);
    expect(await sidecar.stop()).toBe(0);
    expect(sidecar.logged(READ_MESSAGE)).toMatchObject([{ readBufferBytes: 16 * 1024 }]);
    // Every line once and whole (two requests in flight may arrive in either order).
    expect(messages.length).toBe(lines.length);
    expect([...messages].sort()).toEqual([...lines].sort());
  }, 60_000);

  it('keeps the 256 KiB read at the default bound', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'app.log'), 'one\ntwo\n');
    const messages: string[] = [];
    const url = await receiver(messages);
    const sidecar = processes.start(httpArgs(dir, url));
    await sidecar.ready();
    await waitFor('every line delivered', () => messages.length >= 2);
    expect(await sidecar.stop()).toBe(0);
    expect(sidecar.logged(READ_MESSAGE)).toEqual([]);
  }, 60_000);
});
