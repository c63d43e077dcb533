import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type LogSidecarProcess, logSidecars, tempDir } from './log-sidecar-process.js';

const processes = logSidecars();
afterEach(() => processes.cleanup());

function lines(from: number, to: number): string {
  let text = '';
  for (let n = from; n < to; n++) text += `${JSON.stringify({ seq: n, pad: 'y'.repeat(150) })}\n`;
  return text;
}

function seqOf(sidecar: LogSidecarProcess): number[] {
  return sidecar.records.map((r) => r.fields?.seq as number);
}

describe('log-sidecar restarts and shutdown (built binary)', () => {
  it('resumes after kill -9 without loss while the app keeps writing; duplicates carry the same id', async () => {
    const dir = tempDir();
    const log = join(dir, 'app.log');
    let written = 20_000;
    writeFileSync(log, lines(0, written));
    const writer = setInterval(() => {
      appendFileSync(log, lines(written, written + 200));
      written += 200;
    }, 5);
    const args = ['--path', join(dir, '*.log'), '--batch-timeout', '20ms'];
    const first = processes.start(args);
    try {
      await first.ready();
      // Kill once part is delivered and a checkpoint is on disk.
      await waitFor('a checkpoint after part of the file', () => {
        if (first.records.length < 5000) return false;
        try {
          return readFileSync(join(dir, '.log-sidecar', 'checkpoints.json'), 'utf8').includes('"stdout"');
        } catch {
          return false;
        }
      });
      first.signal('SIGKILL');
      await first.exited;
      const second = processes.start(args);
      await second.ready();
      await waitFor('lines written after the restart', () => second.records.length > 1000);
      clearInterval(writer);
      const total = written;
      await waitFor('every line', () => seqOf(second).includes(total - 1), { timeoutMs: 30_000 });
      expect(await second.stop()).toBe(0);

      const all = new Map<string, number>(first.records.map((r) => [r.id, r.fields?.seq as number]));
      let duplicates = 0;
      for (const r of second.records) {
        const seq = r.fields?.seq as number;
        if (all.has(r.id)) {
          duplicates++;
          expect(all.get(r.id)).toBe(seq); // same id, same line
        }
        all.set(r.id, seq);
      }
      const seen = new Set(all.values());
      for (let n = 0; n < total; n++) if (!seen.has(n)) throw new Error(`line ${n} of ${total} was lost`);
      // Resumed from the checkpoint: at most what was delivered since the last checkpoint comes again.
      expect(duplicates).toBeLessThan(first.records.length);
      expect(second.logged('Resuming file from its checkpoint.')).toHaveLength(1);
    } finally {
      clearInterval(writer);
    }
  });

  it('after kill -9, finishes a file that was renamed away (rename + create) while it was down', async () => {
    const dir = tempDir();
    const log = join(dir, 'app.log');
    writeFileSync(log, lines(0, 1000));
    // Without rotated-sibling discovery, so that only the inode recovery next to the old path can find
    // app.log.1 after the restart: that recovery is what this test is about.
    const args = ['--path', join(dir, '*.log'), '--batch-timeout', '20ms', '--follow-rotated', 'false'];
    const first = processes.start(args);
    await first.ready();
    await waitFor('a checkpoint', () => {
      try {
        return readFileSync(join(dir, '.log-sidecar', 'checkpoints.json'), 'utf8').includes('"stdout"');
      } catch {
        return false;
      }
    });
    first.signal('SIGKILL');
    await first.exited;
    // Written while the sidecar is down, then rotated away under a name --path does not match.
    appendFileSync(log, lines(1000, 3000));
    renameSync(log, join(dir, 'app.log.1'));
    writeFileSync(log, lines(3000, 3500));
    const second = processes.start(args);
    await second.ready();
    await waitFor(
      'every line of both files',
      () => new Set([...seqOf(first), ...seqOf(second)]).size >= 3500,
    );
    expect(await second.stop()).toBe(0);
    expect(second.logged('Found a rotated file left unfinished; reading it to its end.')).toHaveLength(1);
    const seen = new Set([...seqOf(first), ...seqOf(second)]);
    for (let n = 0; n < 3500; n++) if (!seen.has(n)) throw new Error(`line ${n} was lost`);
  });

  it('on SIGTERM emits the partial last line, delivers everything and exits 0', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'app.log'), 'complete\nno newline at the end');
    const sidecar = processes.start(['--path', join(dir, '*.log'), '--format', 'raw']);
    await sidecar.ready();
    await waitFor('the complete line', () => sidecar.records.length >= 1, { timeoutMs: 5000 });
    expect(sidecar.records).toHaveLength(1);
    sidecar.signal('SIGTERM');
    await waitFor('/readyz to fail while draining or the exit', async () =>
      sidecar.exitCode !== undefined ? true : (await sidecar.get('/readyz')).status !== 200,
    );
    expect((await sidecar.exited).code).toBe(0);
    expect(sidecar.messages()).toEqual(['complete', 'no newline at the end']);
    const checkpoint = JSON.parse(readFileSync(join(dir, '.log-sidecar', 'checkpoints.json'), 'utf8'));
    const entry = Object.values(checkpoint.files)[0] as { offsets: Record<string, number> };
    expect(entry.offsets.stdout).toBe(Buffer.byteLength('complete\nno newline at the end'));
  });

  it('at the deadline logs per file what was not delivered and exits 1', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'app.log'), lines(0, 50_000));
    const sidecar = processes.start(
      ['--path', join(dir, '*.log'), '--shutdown-timeout', '2s', '--on-deadline', 'drop'],
      { stdoutUnread: true },
    );
    await sidecar.ready();
    await waitFor(
      'reading to stall on the full stdout pipe',
      async () => (await sidecar.metric('log_sidecar_records_read_total')) > 0,
    );
    sidecar.signal('SIGTERM');
    // The stdout pipe is never read: only the 2 s deadline ends this shutdown, with exit 1 and the report.
    expect((await sidecar.exited).code).toBe(1);
    const report = sidecar.logged('Not delivered before the shutdown deadline.');
    expect(report).toHaveLength(1);
    expect(report[0]).toMatchObject({ path: join(dir, 'app.log'), sink: 'stdout', level: 'error' });
    expect(report[0]!.bytes as number).toBeGreaterThan(0);
    expect(report[0]!.records as number).toBeGreaterThan(0);
  });

  it('exits at once on a second signal', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'app.log'), lines(0, 50_000));
    const sidecar = processes.start(['--path', join(dir, '*.log'), '--shutdown-timeout', '60s'], {
      stdoutUnread: true,
    });
    await sidecar.ready();
    await waitFor('records read', async () => (await sidecar.metric('log_sidecar_records_read_total')) > 0);
    sidecar.signal('SIGTERM');
    await waitFor('draining', async () => (await sidecar.get('/readyz')).status === 503);
    sidecar.signal('SIGTERM');
    expect((await sidecar.exited).code).toBe(1);
    expect(sidecar.logged('Second signal during shutdown; exiting now.')).toHaveLength(1);
  });
});
