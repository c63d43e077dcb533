import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpReceiver, waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { httpArgs, type LogSidecarProcess, logSidecars, tempDir } from './log-sidecar-process.js';

// Issue 11 part 3: SIGTERM cuts every wait short. The sink's backoff sleep ends at once, the drain starts
// while files are still being read to their end, and at the deadline every line no sink acknowledged
// (read or not yet read) reaches stdout with --on-deadline stdout, or stays behind the checkpoint with drop.

const processes = logSidecars();
const receivers: HttpReceiver[] = [];
afterEach(async () => {
  await processes.cleanup();
  for (const r of receivers.splice(0)) await r.close();
});

/** `count` lines `<tag> <n>`: short, so a 20,000-line backlog is far beyond what one batch holds. */
function lines(tag: string, from: number, count: number): string {
  let out = '';
  for (let i = from; i < from + count; i++) out += `${tag} ${i}\n`;
  return out;
}

function expected(tag: string, count: number): string[] {
  return lines(tag, 0, count).trim().split('\n');
}

/** What of `want` is not in `got`: a count and the first few, so a failure reads in one line. */
function missing(
  got: Iterable<string | undefined>,
  want: readonly string[],
): { count: number; first: string[] } {
  const seen = new Set(got);
  const absent = want.filter((line) => !seen.has(line));
  return { count: absent.length, first: absent.slice(0, 3) };
}

const NONE = { count: 0, first: [] };

/**
 * A sink that is down (503 with a Retry-After far longer than the shutdown deadline, as an overloaded
 * backend answers) until `up` is set, then answers 200. Records the messages it accepted, per request.
 */
function sink() {
  const accepted: string[] = [];
  const state = { up: false, requestsAfterUp: 0 };
  const r = new HttpReceiver((req, res) => {
    if (!state.up) return void res.writeHead(503, { 'retry-after': '60' }).end('overloaded');
    state.requestsAfterUp++;
    for (const line of req.body.split('\n'))
      if (line !== '') accepted.push((JSON.parse(line) as { message: string }).message);
    res.writeHead(200).end();
  });
  receivers.push(r);
  return { r, accepted, state };
}

async function firstRetry(sidecar: LogSidecarProcess): Promise<void> {
  await waitFor(
    'the first failed attempt',
    async () => (await sidecar.metric('log_sidecar_sink_retries_total')) > 0,
  );
}

function checkpointOffsets(dir: string): number[] {
  const document = JSON.parse(readFileSync(join(dir, 'ckpt', 'checkpoints.json'), 'utf8')) as {
    files: Record<string, { offsets: Record<string, number> }>;
  };
  return Object.values(document.files).map((entry) => entry.offsets.ndjson ?? 0);
}

describe('log-sidecar shutdown drain (built binary)', () => {
  it('sends at once on SIGTERM to a sink that is healthy again, though its backoff had 60 s to go', async () => {
    const dir = tempDir();
    const { r, accepted, state } = sink();
    const url = await r.start();
    writeFileSync(join(dir, 'app.log'), lines('line', 0, 20_000));
    const sidecar = processes.start(httpArgs(dir, url, ['--shutdown-timeout', '3s']));
    await sidecar.ready();
    await firstRetry(sidecar);
    state.up = true;
    const code = await sidecar.stop();
    // Every line went to the sink during the shutdown; none had to be spilled to stdout.
    expect.soft(state.requestsAfterUp).toBeGreaterThan(0);
    expect.soft(missing(accepted, expected('line', 20_000))).toEqual(NONE);
    expect.soft(sidecar.records.length).toBe(0);
    expect(sidecar.logged('Not delivered before the shutdown deadline.')).toEqual([]);
    expect(code).toBe(0);
  }, 30_000);

  it('with the sink still down at the deadline, writes every line to stdout, read or not, and exits 1', async () => {
    const dir = tempDir();
    const { r } = sink();
    const url = await r.start();
    // Far more than the delivery holds in memory: most of each file is not read when SIGTERM comes.
    writeFileSync(join(dir, 'a.log'), lines('a', 0, 15_000));
    writeFileSync(join(dir, 'b.log'), lines('b', 0, 15_000));
    const sidecar = processes.start(
      httpArgs(dir, url, ['--shutdown-timeout', '3s', '--on-deadline', 'stdout']),
    );
    await sidecar.ready();
    await firstRetry(sidecar);
    const code = await sidecar.stop();
    const byFile = (path: string) =>
      sidecar.records.filter((rec) => rec.path === path).map((rec) => rec.message);
    // Nothing missing (at least once: a line may appear twice, never zero times).
    expect.soft(missing(byFile(join(dir, 'a.log')), expected('a', 15_000))).toEqual(NONE);
    expect.soft(missing(byFile(join(dir, 'b.log')), expected('b', 15_000))).toEqual(NONE);
    expect(code).toBe(1);
    // The report still names each file (the sink did not get it) and says stdout got every byte of it.
    const report = sidecar.logged('Not delivered before the shutdown deadline.');
    expect(report.map((line) => line.path).sort()).toEqual([join(dir, 'a.log'), join(dir, 'b.log')]);
    for (const line of report) expect(line).toMatchObject({ sink: 'ndjson', onStdout: 'all' });
  }, 30_000);

  it('with --on-deadline drop, writes nothing to stdout and leaves the checkpoint where the sink acked', async () => {
    const dir = tempDir();
    const { r, accepted, state } = sink();
    state.up = true;
    const url = await r.start();
    const file = join(dir, 'app.log');
    writeFileSync(file, lines('line', 0, 100));
    const first = processes.start(httpArgs(dir, url, ['--shutdown-timeout', '2s', '--on-deadline', 'drop']));
    await first.ready();
    await waitFor('the first 100 lines', () => accepted.length >= 100);
    const acked = Buffer.byteLength(lines('line', 0, 100));
    await waitFor('the checkpoint of the first 100 lines', () => {
      try {
        return checkpointOffsets(dir)[0] === acked;
      } catch {
        return false;
      }
    });
    state.up = false;
    appendFileSync(file, lines('line', 100, 19_900));
    await waitFor('a failed attempt', async () => (await first.metric('log_sidecar_sink_retries_total')) > 0);
    expect(await first.stop()).toBe(1);
    expect(first.records.length).toBe(0);
    expect(checkpointOffsets(dir)).toEqual([acked]);
    const report = first.logged('Not delivered before the shutdown deadline.');
    expect(report).toMatchObject([{ path: file, sink: 'ndjson' }]);
    expect(report[0]!.bytes).toBe(Buffer.byteLength(lines('line', 0, 20_000)) - acked);

    // The next run resumes at the checkpoint: nothing lost.
    state.up = true;
    const second = processes.start(httpArgs(dir, url, ['--shutdown-timeout', '5s']));
    await second.ready();
    await waitFor('every line', () => new Set(accepted).size === 20_000, {
      timeoutMs: 20_000,
    });
    expect(missing(accepted, expected('line', 20_000))).toEqual(NONE);
    expect(await second.stop()).toBe(0);
  }, 45_000);
});
