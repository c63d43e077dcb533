import { appendFileSync, existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type LogSidecarProcess, logSidecars, tempDir } from './log-sidecar-process.js';

const processes = logSidecars();
afterEach(() => processes.cleanup());

function writeLines(path: string, from: number, to: number): void {
  let text = '';
  for (let n = from; n < to; n++) text += `${JSON.stringify({ seq: n, msg: 'request finished' })}\n`;
  appendFileSync(path, text);
}

/** How many times each line was shipped, after checking that no record id came twice. */
function shippedCounts(sidecar: LogSidecarProcess): Map<number, number> {
  const ids = sidecar.records.map((r) => r.id);
  expect(new Set(ids).size).toBe(ids.length);
  const counts = new Map<number, number>();
  for (const r of sidecar.records) {
    const seq = r.fields?.seq as number;
    counts.set(seq, (counts.get(seq) ?? 0) + 1);
  }
  return counts;
}

function expectEachOnce(sidecar: LogSidecarProcess, from: number, to: number): void {
  const counts = shippedCounts(sidecar);
  for (let n = from; n < to; n++) {
    if (counts.get(n) !== 1) throw new Error(`line ${n} shipped ${counts.get(n) ?? 0} times`);
  }
  expect(sidecar.records).toHaveLength(to - from);
}

/** RotatingFileHandler's rollover: `.N` becomes `.N+1`, the file becomes `.1`, a new file is created. */
function rollOver(log: string): void {
  let last = 1;
  while (existsSync(`${log}.${last}`)) last++;
  for (let n = last - 1; n >= 1; n--) renameSync(`${log}.${n}`, `${log}.${n + 1}`);
  renameSync(log, `${log}.1`);
}

const LINES_PER_FILE = 200;
const ROTATIONS = 6;

/**
 * Tails `a.log`, then rotates it ROTATIONS times with no scan in between (`--scan-interval 10m`): the
 * files created and renamed meanwhile are only visible to the one listing at SIGTERM, under rotated names.
 */
async function rotateWithinOneScan(
  extraArgs: string[],
): Promise<{ sidecar: LogSidecarProcess; log: string }> {
  const dir = tempDir();
  const log = join(dir, 'a.log');
  writeLines(log, 0, LINES_PER_FILE);
  const sidecar = processes.start([
    '--path',
    join(dir, '*.log'),
    '--scan-interval',
    '10m',
    '--batch-timeout',
    '20ms',
    ...extraArgs,
  ]);
  await sidecar.ready();
  await waitFor('the first file read', () => sidecar.records.length >= LINES_PER_FILE);
  for (let round = 1; round <= ROTATIONS; round++) {
    rollOver(log);
    writeLines(log, round * LINES_PER_FILE, (round + 1) * LINES_PER_FILE);
  }
  expect(await sidecar.metric('log_sidecar_discovery_scans_total')).toBe(1);
  expect(await sidecar.stop()).toBe(0);
  return { sidecar, log };
}

describe('log-sidecar rotated siblings (built binary)', () => {
  it('reads files created and renamed to a.log.N between two scans, each line once', async () => {
    const { sidecar, log } = await rotateWithinOneScan([]);
    expectEachOnce(sidecar, 0, (ROTATIONS + 1) * LINES_PER_FILE);
    // The first file, open since the first scan, is recognized under its rotated name, not read again.
    expect(sidecar.logged('File renamed; still reading it under its new name.')).toEqual([
      expect.objectContaining({ from: log, to: `${log}.${ROTATIONS}` }),
    ]);
  });

  it('with --follow-rotated false, reads only the files seen under a matching name', async () => {
    const { sidecar } = await rotateWithinOneScan(['--follow-rotated', 'false']);
    const counts = shippedCounts(sidecar);
    const total = (ROTATIONS + 1) * LINES_PER_FILE;
    const shipped = [...counts.keys()].sort((a, b) => a - b);
    // The file open from the start and the last a.log; everything in between is lost.
    const expected = [
      ...Array.from({ length: LINES_PER_FILE }, (_, n) => n),
      ...Array.from({ length: LINES_PER_FILE }, (_, n) => total - LINES_PER_FILE + n),
    ];
    expect(shipped).toEqual(expected);
  });

  it('reads a rotated file present at start from its beginning, closes it, and not again after a restart', async () => {
    const dir = tempDir();
    const log = join(dir, 'a.log');
    writeLines(`${log}.3`, 0, 300);
    writeLines(log, 300, 400);
    const args = ['--path', join(dir, '*.log'), '--scan-interval', '100ms', '--batch-timeout', '20ms'];
    const first = processes.start(args);
    await first.ready();
    await waitFor('every line', () => first.records.length >= 400);
    // Handed over once, then read to its end and let go like any file renamed away: backups stay closed.
    await waitFor('the rotated file closed', () =>
      first.logged('Rotated file read to its end; closed it.').some((l) => l.path === `${log}.3`),
    );
    expect(await first.stop()).toBe(0);
    expectEachOnce(first, 0, 400);
    expect(first.records.filter((r) => r.path === `${log}.3`)).toHaveLength(300);

    const second = processes.start(args);
    await second.ready();
    await waitFor('a few scans', async () => (await second.metric('log_sidecar_discovery_scans_total')) >= 3);
    expect(await second.stop()).toBe(0);
    // The checkpoint knows both files by identity: nothing is shipped twice.
    expect(second.records).toEqual([]);
    const resumed = second.logged('Resuming file from its checkpoint.').map((l) => l.path);
    expect(resumed.sort()).toEqual([log, `${log}.3`]);
  });
});
