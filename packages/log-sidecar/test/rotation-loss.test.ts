import { appendFileSync, mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { logSidecars, tempDir } from './log-sidecar-process.js';

const processes = logSidecars();
afterEach(() => processes.cleanup());

const CHECKPOINT_WARNING = 'Cannot write the checkpoint; retrying.';

describe('log-sidecar: what rotation and an unwritable checkpoint can lose, said and counted (built binary)', () => {
  it('counts and names a waiting file deleted before it got a slot', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'logs'));
    // a.log is big and stdout is never read: it keeps the only slot while b.log waits.
    const big = join(dir, 'logs', 'a.log');
    let text = '';
    for (let n = 0; n < 50_000; n++) text += `${JSON.stringify({ seq: n, pad: 'q'.repeat(60) })}\n`;
    writeFileSync(big, text);
    const waiting = join(dir, 'logs', 'b.log');
    writeFileSync(waiting, '{"seq":"b0"}\n{"seq":"b1"}\n');
    const size = statSync(waiting).size;
    const sidecar = processes.start(
      [
        '--path',
        join(dir, 'logs', '*.log'),
        '--max-open-files',
        '1',
        '--scan-interval',
        '100ms',
        '--shutdown-timeout',
        '2s',
        '--on-deadline',
        'drop',
      ],
      { stdoutUnread: true },
    );
    await sidecar.ready();
    await waitFor(
      'b.log to wait for a slot',
      async () => (await sidecar.metric('log_sidecar_files_unread')) >= 1,
    );
    unlinkSync(waiting);
    await waitFor(
      'the loss to be counted',
      async () => (await sidecar.metric('log_sidecar_bytes_lost_unread_total')) === size,
    );
    const warned = sidecar.logged('File gone before it was read to its end; its unread bytes are lost.');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ path: waiting, bytes: size });
    expect(await sidecar.stop()).toBe(1);
    // The exit code does not hide it: the deadline report names it too.
    expect(
      sidecar.logged('Not delivered before the shutdown deadline.').filter((l) => l.path === waiting),
    ).toEqual([
      expect.objectContaining({ bytes: size, records: 0, reason: 'deleted before it was read to its end' }),
    ]);
  });

  it('warns about an unwritable checkpoint directory once, not every second, and still exits 0 when all was delivered', async () => {
    const dir = tempDir();
    const log = join(dir, 'app.log');
    writeFileSync(log, '');
    // A directory under a regular file can never be created, whoever runs the test (root included).
    writeFileSync(join(dir, 'not-a-dir'), '');
    const sidecar = processes.start([
      '--path',
      log,
      '--checkpoint-dir',
      join(dir, 'not-a-dir', 'checkpoints'),
      '--batch-timeout',
      '20ms',
    ]);
    let seq = 0;
    const writer = setInterval(() => appendFileSync(log, `${JSON.stringify({ seq: seq++ })}\n`), 100);
    try {
      await sidecar.ready();
      // Every second the checkpoint has moved and another write fails.
      await waitFor(
        'four failed checkpoint writes',
        async () => (await sidecar.metric('log_sidecar_checkpoint_write_failures_total')) >= 4,
      );
    } finally {
      clearInterval(writer);
    }
    const written = seq;
    await waitFor('every line', () => sidecar.records.length >= written);
    expect(sidecar.logged(CHECKPOINT_WARNING)).toHaveLength(1);
    // Everything was delivered: a checkpoint that could not be saved means duplicates after a restart,
    // never loss, so the exit code stays 0 (the final failure is logged).
    expect(await sidecar.stop()).toBe(0);
    expect(sidecar.records.map((r) => r.fields?.seq)).toEqual([...Array(written).keys()]);
  });
});
