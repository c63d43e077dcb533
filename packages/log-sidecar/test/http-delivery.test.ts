import { appendFileSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { HttpReceiver, type ReceivedRequest, waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { httpArgs, logSidecars, tempDir } from './log-sidecar-process.js';

const processes = logSidecars();
const receivers: HttpReceiver[] = [];
afterEach(async () => {
  await processes.cleanup();
  for (const r of receivers.splice(0)) await r.close();
});

function receiver(handler?: ConstructorParameters<typeof HttpReceiver>[0]): HttpReceiver {
  const r = new HttpReceiver(handler);
  receivers.push(r);
  return r;
}

/** Distinct record ids the receiver took (2xx answers only), from NDJSON bodies. */
function ndjsonIds(requests: readonly ReceivedRequest[], accepted: Set<ReceivedRequest>): Set<string> {
  const ids = new Set<string>();
  for (const request of requests) {
    if (!accepted.has(request)) continue;
    for (const line of request.body.split('\n'))
      if (line !== '') ids.add((JSON.parse(line) as { id: string }).id);
  }
  return ids;
}

/** Numbered lines, each padded to `width` bytes with its newline when given. */
function lines(from: number, count: number, width = 0): string {
  let out = '';
  for (let i = from; i < from + count; i++) out += `${`line ${i}`.padEnd(width - 1, 'x')}\n`;
  return out;
}

/** The one entry of the checkpoint `httpArgs` puts under `dir` (undefined until it is written). */
function onlyCheckpointEntry(dir: string): { size?: number; offsets: Record<string, number> } | undefined {
  try {
    const document = JSON.parse(readFileSync(join(dir, 'ckpt', 'checkpoints.json'), 'utf8'));
    return Object.values(document.files)[0] as { size?: number; offsets: Record<string, number> } | undefined;
  } catch {
    return undefined;
  }
}

/** A receiver that answers 200 and remembers which requests it accepted. */
function accepting() {
  const accepted = new Set<ReceivedRequest>();
  const r = receiver((req, res) => {
    accepted.add(req);
    res.writeHead(200).end();
  });
  return { r, accepted };
}

describe('log-sidecar HTTP delivery (built binary)', () => {
  // Its memory during the outage is measured by bench/log-sidecar-http (BENCH_ONLY=outage).
  it('delivers every line written while the server was down for 20 s', async () => {
    const dir = tempDir();
    const { r, accepted } = accepting();
    const url = await r.start();
    const sidecar = processes.start(httpArgs(dir, url));
    await sidecar.ready();
    const file = join(dir, 'app.log');
    writeFileSync(file, lines(0, 100));
    await waitFor('the first lines', () => ndjsonIds(r.requests, accepted).size === 100);
    await r.close();
    const downUntil = Date.now() + 20_000;
    let written = 100;
    while (Date.now() < downUntil) {
      appendFileSync(file, lines(written, 500));
      written += 500;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await r.start(Number(url.port));
    await waitFor('every line after the outage', () => ndjsonIds(r.requests, accepted).size === written, {
      timeoutMs: 60_000,
    });
    expect(await sidecar.metric('log_sidecar_sink_retries_total')).toBeGreaterThan(0);
    expect(await sidecar.stop()).toBe(0);
  }, 120_000);

  it('loses nothing when SIGKILLed with requests in flight and restarted', async () => {
    const dir = tempDir();
    const accepted = new Set<ReceivedRequest>();
    let answering = false;
    const r = receiver((req, res) => {
      if (!answering) return; // hold the request open: the batch is in flight
      accepted.add(req);
      res.writeHead(200).end();
    });
    const url = await r.start();
    writeFileSync(join(dir, 'app.log'), lines(0, 5000));
    const first = processes.start(httpArgs(dir, url));
    await first.ready();
    await waitFor('requests in flight', () => r.requests.length >= 2);
    first.signal('SIGKILL');
    await first.exited;
    answering = true;
    const second = processes.start(httpArgs(dir, url));
    await second.ready();
    await waitFor('all 5000 lines', () => ndjsonIds(r.requests, accepted).size === 5000, {
      timeoutMs: 30_000,
    });
    expect(await second.stop()).toBe(0);
  }, 60_000);

  it('says once how much a file deleted while the sidecar was down took with it', async () => {
    const dir = tempDir();
    const log = join(dir, 'app.log');
    const { r } = accepting();
    const url = await r.start();
    const checkpointed = () => onlyCheckpointEntry(dir);
    const args = httpArgs(dir, url, ['--batch-timeout', '20ms']);
    writeFileSync(log, lines(0, 300));
    const first = processes.start(args);
    await first.ready();
    const delivered = statSync(log).size;
    await waitFor('the first lines settled', () => checkpointed()?.offsets.ndjson === delivered);
    // The sink goes down; the app writes on; the sidecar dies; the file is deleted before it is back.
    r.setHandler((_req, res) => res.writeHead(503).end());
    appendFileSync(log, lines(300, 200));
    const size = statSync(log).size;
    await waitFor('a checkpoint that knows the new size', () => checkpointed()?.size === size);
    first.signal('SIGKILL');
    await first.exited;
    expect(checkpointed()?.offsets.ndjson).toBe(delivered);
    unlinkSync(log);

    const message =
      'File gone while the sidecar was stopped, before it was read to its end; its unread bytes are lost.';
    const second = processes.start(args);
    await second.ready();
    const [report] = await waitFor('the loss report', () => {
      const found = second.logged(message);
      return found.length > 0 ? found : undefined;
    });
    expect(report).toMatchObject({ path: log, bytes: size - delivered, level: 'warn' });
    expect(await second.metric('log_sidecar_bytes_lost_unread_total')).toBe(size - delivered);
    expect(await second.stop()).toBe(0);

    // Said once: the next start knows the loss was reported.
    const third = processes.start(args);
    await third.ready();
    await waitFor(
      'the first scan to end',
      async () => (await third.metric('log_sidecar_discovery_scans_total')) >= 2,
    );
    expect(third.logged(message)).toEqual([]);
    expect(await third.metric('log_sidecar_bytes_lost_unread_total')).toBe(0);
    expect(await third.stop()).toBe(0);
  }, 60_000);

  it('says what a file deleted while the sidecar was down took with it when nothing of it was delivered yet', async () => {
    const dir = tempDir();
    const log = join(dir, 'app.log');
    const r = receiver((_req, res) => res.writeHead(503).end());
    const url = await r.start();
    const checkpointed = () => onlyCheckpointEntry(dir);
    const args = httpArgs(dir, url);
    writeFileSync(log, lines(0, 300));
    const size = statSync(log).size;
    const first = processes.start(args);
    await first.ready();
    await waitFor('a checkpoint that knows the file', () => checkpointed()?.size === size);
    first.signal('SIGKILL');
    await first.exited;
    expect(checkpointed()?.offsets).toEqual({});
    unlinkSync(log);

    const second = processes.start(args);
    await second.ready();
    const [report] = await waitFor('the loss report', () => {
      const found = second.logged(
        'File gone while the sidecar was stopped, before it was read to its end; its unread bytes are lost.',
      );
      return found.length > 0 ? found : undefined;
    });
    expect(report).toMatchObject({ path: log, bytes: size, level: 'warn' });
    expect(await second.metric('log_sidecar_bytes_lost_unread_total')).toBe(size);
    expect(await second.stop()).toBe(0);
  }, 60_000);

  it('delivers a backlog on SIGTERM within the deadline and exits 0', async () => {
    const dir = tempDir();
    const accepted = new Set<ReceivedRequest>();
    const r = receiver((req, res) => {
      accepted.add(req);
      setTimeout(() => res.writeHead(200).end(), 20);
    });
    const url = await r.start();
    writeFileSync(join(dir, 'app.log'), lines(0, 50_000));
    const sidecar = processes.start(
      httpArgs(dir, url, ['--batch-timeout', '10s', '--shutdown-timeout', '20s']),
    );
    await sidecar.ready();
    // Exit 0 means every record was acknowledged before the 20 s deadline (after it, the exit is 1).
    expect(await sidecar.stop()).toBe(0);
    expect(ndjsonIds(r.requests, accepted).size).toBe(50_000);
  }, 60_000);

  it('ends on time when the server is gone, reports per file and spills to stdout', async () => {
    const dir = tempDir();
    const r = receiver();
    const url = await r.start();
    await r.close();
    writeFileSync(join(dir, 'app.log'), lines(0, 300));
    const sidecar = processes.start(httpArgs(dir, url, ['--shutdown-timeout', '3s']));
    await sidecar.ready();
    await waitFor(
      'the first failed attempt',
      async () => (await sidecar.metric('log_sidecar_sink_retries_total')) > 0,
    );
    // The sink never comes back: only the 3 s deadline ends the shutdown, with exit 1 and the report.
    expect(await sidecar.stop()).toBe(1);
    const report = sidecar.logged('Not delivered before the shutdown deadline.');
    expect(report).toHaveLength(1);
    expect(report[0]).toMatchObject({ sink: 'ndjson', path: join(dir, 'app.log'), records: 300 });
    expect(sidecar.logged('Wrote undelivered records to stdout.')).toMatchObject([{ records: 300 }]);
    expect(sidecar.messages()).toEqual(lines(0, 300).trim().split('\n'));
  }, 30_000);

  it('resends the retryable items of an Elasticsearch bulk answer and counts the rejected ones', async () => {
    const dir = tempDir();
    const created = new Map<string, string>();
    const seen = new Map<string, number>();
    const r = receiver((req, res) => {
      const body = req.body.split('\n').filter((l) => l !== '');
      const items = [];
      for (let i = 0; i < body.length; i += 2) {
        const action = JSON.parse(body[i]!) as { create: { _index: string; _id: string } };
        const doc = JSON.parse(body[i + 1]!) as { message: string };
        const id = action.create._id;
        const attempt = (seen.get(id) ?? 0) + 1;
        seen.set(id, attempt);
        if (doc.message === 'bad') {
          items.push({
            create: { status: 400, error: { type: 'mapper_parsing_exception', reason: 'bad doc' } },
          });
        } else if (doc.message === 'busy' && attempt === 1) {
          items.push({
            create: { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'full' } },
          });
        } else {
          created.set(id, doc.message);
          items.push({ create: { status: 201 } });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: true, items }));
    });
    const url = await r.start();
    writeFileSync(join(dir, 'app.log'), 'good\nbad\nbusy\nalso good\n');
    const sidecar = processes.start(httpArgs(dir, url, ['--sink-format', 'elasticsearch']));
    await sidecar.ready();
    await waitFor('three documents created', () => created.size === 3);
    expect([...created.values()].sort()).toEqual(['also good', 'busy', 'good']);
    await waitFor(
      'the rejection counted',
      async () => (await sidecar.metric('log_sidecar_sink_records_rejected_total')) === 1,
    );
    expect(sidecar.logged('Sink rejected records; they are lost.')[0]).toMatchObject({
      status: 400,
      records: 1,
    });
    expect(r.requests[0]!.url).toBe('/_bulk');
    expect(await sidecar.stop()).toBe(0);
  }, 30_000);

  it('uses the rotated token once the Secret file changes, without losing lines', async () => {
    const dir = tempDir();
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'token-one\n');
    const accepted = new Set<ReceivedRequest>();
    let valid = 'Bearer token-one';
    const r = receiver((req, res) => {
      if (req.headers.authorization !== valid) return void res.writeHead(401).end('bad token');
      accepted.add(req);
      res.writeHead(200).end();
    });
    const url = await r.start();
    const file = join(dir, 'app.log');
    writeFileSync(file, lines(0, 10));
    const sidecar = processes.start(httpArgs(dir, url, ['--sink-token-file', tokenFile]));
    await sidecar.ready();
    await waitFor('the first lines', () => ndjsonIds(r.requests, accepted).size === 10);
    valid = 'Bearer token-two';
    writeFileSync(join(dir, 'token.new'), 'token-two\n');
    await rename(join(dir, 'token.new'), tokenFile);
    appendFileSync(file, lines(10, 10));
    await waitFor('the lines after the rotation', () => ndjsonIds(r.requests, accepted).size === 20);
    expect(sidecar.stderrText).not.toMatch(/token-one|token-two/);
    expect(await sidecar.stop()).toBe(0);
  }, 30_000);

  it('sends a cold file in batches up to --batch-max-records, then live lines 1000 at a time', async () => {
    const dir = tempDir();
    const r = receiver();
    const url = await r.start();
    const linesPerRequest = () =>
      r.requests.map((q) => q.body.split('\n').filter((line) => line !== '').length);
    const delivered = () => linesPerRequest().reduce((a, b) => a + b, 0);
    // Issue 16: a backlog costs the receiver few requests, a live line waits no longer than before.
    // 100-byte lines, 2 MB: more than one 256 KiB read, so the source is behind for most of it.
    writeFileSync(join(dir, 'app.log'), lines(0, 20_000, 100));
    // A long timeout: a batch that goes out before it does was sealed by its size.
    const sidecar = processes.start(
      httpArgs(dir, url, ['--batch-max-records', '4000', '--batch-timeout', '60s']),
    );
    await sidecar.ready();
    await waitFor('the cold file at the sink', () => delivered() >= 20_000, { timeoutMs: 20_000 });
    const cold = linesPerRequest();
    expect(Math.max(...cold)).toBe(4000);
    expect(cold.filter((n) => n === 4000).length).toBeGreaterThanOrEqual(3);
    expect(cold.length).toBeLessThan(20);

    // Caught up: 1200 live lines are one read; 1000 of them go at once, not held for 4000.
    appendFileSync(join(dir, 'app.log'), lines(20_000, 1200, 100));
    await waitFor('1000 live lines at the sink', () => delivered() >= 21_000, { timeoutMs: 10_000 });
    expect(linesPerRequest().slice(cold.length)).toEqual([1000]);
    // The other 200 are sent at SIGTERM, with nothing lost.
    expect(await sidecar.stop()).toBe(0);
    expect(delivered()).toBe(21_200);
  }, 60_000);
});
