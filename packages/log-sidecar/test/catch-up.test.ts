import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpReceiver, waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { httpArgs, logSidecars, tempDir } from './log-sidecar-process.js';

// Issue 11 part 5: catching up after an outage. A batch left in backoff at the front of a sink's window
// held every later acknowledgement (and the checkpoint) behind it, and with them every later batch's
// records in memory: 153,606 records live in a heap snapshot 2 s into a catch-up, peak RSS 350-384 MiB
// (bench/log-sidecar-http, BENCH_ONLY=catchup).

const processes = logSidecars();
const receivers: HttpReceiver[] = [];
afterEach(async () => {
  await processes.cleanup();
  for (const r of receivers.splice(0)) await r.close();
});

function lines(from: number, count: number): string {
  let out = '';
  for (let i = from; i < from + count; i++) out += `line ${i}\n`;
  return out;
}

function checkpointOffset(dir: string): number {
  try {
    const document = JSON.parse(readFileSync(join(dir, 'ckpt', 'checkpoints.json'), 'utf8')) as {
      files: Record<string, { offsets: Record<string, number> }>;
    };
    return Object.values(document.files)[0]?.offsets.ndjson ?? 0;
  } catch {
    return 0;
  }
}

describe('log-sidecar catching up (built binary)', () => {
  it('retries a batch waiting out a 60 s Retry-After as soon as another batch gets through', async () => {
    const dir = tempDir();
    const ids = new Set<string>();
    let requests = 0;
    // The first request meets an overloaded sink; every later one is accepted.
    const r = new HttpReceiver((req, res) => {
      if (requests++ === 0) return void res.writeHead(503, { 'retry-after': '60' }).end('overloaded');
      for (const line of req.body.split('\n'))
        if (line !== '') ids.add((JSON.parse(line) as { message: string }).message);
      res.writeHead(200).end();
    });
    receivers.push(r);
    const url = await r.start();
    const file = join(dir, 'app.log');
    writeFileSync(file, lines(0, 20_000));
    const sidecar = processes.start(httpArgs(dir, url, ['--shutdown-timeout', '5s']));
    await sidecar.ready();
    // Well before the 60 s: the batch that met the 503 goes again once the sink is seen to answer.
    await waitFor('every line at the sink', () => ids.size === 20_000, { timeoutMs: 20_000 });
    await waitFor(
      'the checkpoint at the end of the file',
      () => checkpointOffset(dir) === statSync(file).size,
    );
    expect(sidecar.logged('Sink recovered.')).toHaveLength(1);
    expect(await sidecar.stop()).toBe(0);
  }, 45_000);
});
