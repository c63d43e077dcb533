import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { logSidecars, tempDir } from './log-sidecar-process.js';

const processes = logSidecars();
afterEach(() => processes.cleanup());

const readWait = 'log_sidecar_read_poll_interval_seconds';

/** A sidecar reading `dir/*.log` (holding `first`) as raw lines, its checkpoint outside `dir`. */
async function idleSidecar(extra: readonly string[]) {
  const dir = tempDir();
  writeFileSync(join(dir, 'app.log'), 'first\n');
  // The checkpoint elsewhere: its first write would be an event in the watched directory.
  const sidecar = processes.start([
    '--path',
    join(dir, '*.log'),
    '--checkpoint-dir',
    join(tempDir(), 'ckpt'),
    '--format',
    'raw',
    ...extra,
  ]);
  await sidecar.ready();
  await waitFor('the first line', () => sidecar.records.length === 1);
  return { dir, sidecar };
}

describe('log-sidecar polling while idle (built binary)', () => {
  it('backs off while nothing changes and a file-system event brings the reads back', async () => {
    const { dir, sidecar } = await idleSidecar(['--batch-timeout', '50ms', '--max-poll-interval', '1m']);
    // Quiet: the wait between reads doubles from --read-interval (250 ms) towards a minute.
    await waitFor('the reads to back off', async () => (await sidecar.metric(readWait)) >= 2, {
      timeoutMs: 30_000,
    });
    const woken = await sidecar.metric('log_sidecar_watch_wakeups_total');
    appendFileSync(join(dir, 'app.log'), 'second\n');
    await waitFor('the appended line', () => sidecar.records.length === 2);
    expect(await sidecar.metric('log_sidecar_watch_wakeups_total')).toBe(woken + 1);
    // A new file, too, wakes the scan rather than waiting for the backed-off one.
    await waitFor('the reads to back off again', async () => (await sidecar.metric(readWait)) >= 2, {
      timeoutMs: 30_000,
    });
    writeFileSync(join(dir, 'new.log'), 'third\n');
    await waitFor('the new file', () => sidecar.records.length === 3);
    expect(await sidecar.metric('log_sidecar_watch_wakeups_total')).toBe(woken + 2);
    expect(sidecar.messages()).toEqual(['first', 'second', 'third']);
    expect(await sidecar.stop()).toBe(0);
  });

  it('never backs off with --max-poll-interval at --read-interval', async () => {
    const { sidecar } = await idleSidecar(['--read-interval', '100ms', '--max-poll-interval', '100ms']);
    // Scans go on at --scan-interval: after several of them the reads still wait --read-interval.
    const scans = await sidecar.metric('log_sidecar_discovery_scans_total');
    await waitFor(
      'three more scans',
      async () => (await sidecar.metric('log_sidecar_discovery_scans_total')) >= scans + 3,
    );
    expect(await sidecar.metric(readWait)).toBe(0.1);
    expect(await sidecar.stop()).toBe(0);
  });
});
