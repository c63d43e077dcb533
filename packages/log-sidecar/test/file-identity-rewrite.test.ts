import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type LogSidecarProcess, logSidecars, tempDir } from './log-sidecar-process.js';

const processes = logSidecars();
afterEach(() => processes.cleanup());

/** What an agent writes first at every start: the same first line in the old and the new content. */
const BANNER = `${JSON.stringify({ banner: 'agent starting', version: '1.4.2' })}\n`;

/** The banner, then lines `{"seq":n}` for n in [from, to), each padded to about `width` bytes. */
function content(from: number, to: number, width = 120): string {
  let text = BANNER;
  for (let n = from; n < to; n++) text += `${JSON.stringify({ seq: n, pad: 'z'.repeat(width) })}\n`;
  return text;
}

interface Outcome {
  /** Lines of [from, to) that no run shipped. */
  lost: number;
  /** Records that are not a whole line written (a fragment of a line). */
  fragments: number;
}

function outcome(runs: readonly LogSidecarProcess[], from: number, to: number): Outcome {
  const seen = new Set<number>();
  let fragments = 0;
  for (const run of runs) {
    for (const record of run.records) {
      if (record.fields === undefined) fragments++;
      else if (typeof record.fields.seq === 'number') seen.add(record.fields.seq);
      else if (record.fields.banner === undefined) fragments++;
    }
  }
  let lost = 0;
  for (let n = from; n < to; n++) if (!seen.has(n)) lost++;
  return { lost, fragments };
}

function start(dir: string): LogSidecarProcess {
  return processes.start([
    '--path',
    join(dir, '*.log'),
    '--batch-timeout',
    '20ms',
    '--scan-interval',
    '200ms',
  ]);
}

/** Runs the sidecar over the first content until every line is delivered and it exited 0. */
async function firstRun(dir: string, lines: number): Promise<LogSidecarProcess> {
  const first = start(dir);
  await first.ready();
  await waitFor('the first content', () => outcome([first], 0, lines).lost === 0);
  expect(await first.stop()).toBe(0);
  return first;
}

describe('log-sidecar file identity: a rewritten file is never resumed at an old offset (built binary)', () => {
  it('truncated and rewritten with the same banner while stopped: every new line, no fragment', async () => {
    const dir = tempDir();
    const log = join(dir, 'app.log');
    writeFileSync(log, content(0, 2000));
    const first = await firstRun(dir, 2000);
    const inode = statSync(log).ino;
    writeFileSync(log, content(10_000, 13_000)); // O_TRUNC: same inode, same first line, longer
    expect(statSync(log).ino).toBe(inode);
    const second = start(dir);
    await second.ready();
    expect(await second.stop()).toBe(0);
    expect(outcome([first, second], 10_000, 13_000)).toEqual({ lost: 0, fragments: 0 });
  });

  it('rewritten with longer lines while stopped: the old offset falls mid-line, no fragment is shipped', async () => {
    const dir = tempDir();
    const log = join(dir, 'app.log');
    writeFileSync(log, content(0, 2000));
    const first = await firstRun(dir, 2000);
    writeFileSync(log, content(10_000, 12_000, 311));
    const second = start(dir);
    await second.ready();
    expect(await second.stop()).toBe(0);
    expect(outcome([first, second], 10_000, 12_000)).toEqual({ lost: 0, fragments: 0 });
  });

  // Retried: another process creating a file at the same instant can take the freed inode first.
  it('inode reused by a new file with the same banner while stopped: read from its start', {
    retry: 2,
  }, async () => {
    const dir = tempDir();
    const log = join(dir, 'app.log');
    writeFileSync(log, content(0, 2000));
    const first = await firstRun(dir, 2000);
    const inode = statSync(log).ino;
    unlinkSync(log);
    // ext4 hands a freed inode to the next file created; find it among a few new files (not *.log).
    for (let n = 0; n < 20 && statSync(log, { throwIfNoEntry: false }) === undefined; n++) {
      const spare = join(dir, `spare-${n}.tmp`);
      writeFileSync(spare, content(10_000, 13_000));
      if (statSync(spare).ino === inode) renameSync(spare, log);
    }
    expect(statSync(log, { throwIfNoEntry: false })?.ino, 'this file system did not reuse the inode').toBe(
      inode,
    );
    const second = start(dir);
    await second.ready();
    expect(await second.stop()).toBe(0);
    expect(outcome([first, second], 10_000, 13_000)).toEqual({ lost: 0, fragments: 0 });
  });

  it('truncated and rewritten with the same banner while running: every new line, no fragment', async () => {
    const dir = tempDir();
    const log = join(dir, 'app.log');
    writeFileSync(log, content(0, 2000));
    const sidecar = start(dir);
    await sidecar.ready();
    await waitFor('the first content', () => outcome([sidecar], 0, 2000).lost === 0);
    writeFileSync(log, content(10_000, 13_000));
    await waitFor('every new line', () => outcome([sidecar], 10_000, 13_000).lost === 0, {
      timeoutMs: 10_000,
    }).catch(() => undefined);
    expect(await sidecar.stop()).toBe(0);
    expect(outcome([sidecar], 10_000, 13_000)).toEqual({ lost: 0, fragments: 0 });
    expect(sidecar.logged('File truncated or rewritten; reading it again from the start.')).toHaveLength(1);
  });

  it('rewritten with longer lines while running: no fragment is shipped', async () => {
    const dir = tempDir();
    const log = join(dir, 'app.log');
    writeFileSync(log, content(0, 2000));
    const sidecar = start(dir);
    await sidecar.ready();
    await waitFor('the first content', () => outcome([sidecar], 0, 2000).lost === 0);
    writeFileSync(log, content(10_000, 12_000, 311));
    await waitFor('every new line', () => outcome([sidecar], 10_000, 12_000).lost === 0, {
      timeoutMs: 10_000,
    }).catch(() => undefined);
    expect(await sidecar.stop()).toBe(0);
    expect(outcome([sidecar], 10_000, 12_000)).toEqual({ lost: 0, fragments: 0 });
  });

  it('a format 1 checkpoint (no content marker) is doubt: the file is read again from 0 once, then resumed', async () => {
    const dir = tempDir();
    const log = join(dir, 'app.log');
    const text = content(0, 500);
    writeFileSync(log, text);
    const { dev, ino, size } = statSync(log);
    const fingerprint = createHash('sha256').update(BANNER).digest('hex').slice(0, 16);
    mkdirSync(join(dir, '.log-sidecar'));
    const entry = { path: log, dev, ino, offsets: { stdout: size }, seenAt: Date.now() };
    const v1 = {
      version: 1,
      writtenAt: new Date().toISOString(),
      files: { [`${dev}-${ino}-${fingerprint}`]: entry },
    };
    writeFileSync(join(dir, '.log-sidecar', 'checkpoints.json'), JSON.stringify(v1));
    const first = start(dir);
    await first.ready();
    expect(await first.stop()).toBe(0);
    expect(outcome([first], 0, 500)).toEqual({ lost: 0, fragments: 0 });
    expect(
      first.logged(
        'Checkpoint of this file has no content marker (written by an older version); reading it again from the start.',
      ),
    ).toHaveLength(1);
    // Written as format 2 with a marker: the next start resumes at the end, nothing is sent again.
    const second = start(dir);
    await second.ready();
    expect(await second.stop()).toBe(0);
    expect(second.records).toHaveLength(0);
    expect(second.logged('Resuming file from its checkpoint.')).toHaveLength(1);
  });
});
