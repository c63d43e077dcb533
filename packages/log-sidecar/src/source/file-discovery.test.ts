import type { Stats } from 'node:fs';
import { mkdirSync, mkdtempSync, renameSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@agent-sidecars/shared';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { SourceEvents } from '../events.js';
import { type ErrorKind, SourceMetrics } from '../source-metrics.js';
import { FileDiscovery } from './file-discovery.js';
import { rotatedFrom } from './rotation.js';

function discovery(
  patterns: string[],
  excludes: string[] = [],
  followRotated = true,
  /** Runs inside onScan, as the pipeline's opening of the files does. */
  whileOpening: (files: ReadonlyMap<string, Stats>) => void = () => {},
) {
  const warnings: string[] = [];
  const errors: ErrorKind[] = [];
  let found: ReadonlyMap<string, Stats> = new Map();
  const logger = createLogger({ name: 'test', level: 'silent' });
  logger.warn = ((_fields: unknown, msg: string) => {
    warnings.push(msg);
  }) as unknown as typeof logger.warn;
  const metrics = new SourceMetrics(new Registry(), () => []);
  metrics.errors.inc = ((labels: { kind: ErrorKind }) => {
    errors.push(labels.kind);
  }) as unknown as typeof metrics.errors.inc;
  const d = new FileDiscovery({
    patterns,
    excludes,
    intervalMs: 60_000,
    events: new SourceEvents(logger, metrics),
    cwd: '/',
    onScan: (files) => {
      found = files;
      whileOpening(files);
    },
    followRotated,
    rotatedMaxAgeMs: 60 * 60_000,
  });
  return { d, warnings, errors, found: () => [...found.keys()].sort() };
}

describe('FileDiscovery', () => {
  it('arms no scan timer when stopped while its first scan runs', async () => {
    const root = mkdtempSync(join(tmpdir(), 'disc-'));
    writeFileSync(join(root, 'app.log'), '');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { d } = discovery([join(root, '*.log')]);
      const started = d.start();
      await d.stop();
      await started;
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('re-evaluates globs, including ** and files created later, and honours excludes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'disc-'));
    mkdirSync(join(root, 'a', 'b'), { recursive: true });
    writeFileSync(join(root, 'top.log'), '');
    writeFileSync(join(root, 'a', 'b', 'deep.log'), '');
    writeFileSync(join(root, 'a', 'skip.log'), '');
    writeFileSync(join(root, '.hidden.log'), '');
    const { d, found } = discovery([join(root, '**/*.log')], ['skip.log']);
    await d.start();
    expect(found()).toEqual([join(root, 'a', 'b', 'deep.log'), join(root, 'top.log')]);
    writeFileSync(join(root, 'a', 'new.log'), '');
    await d.scan();
    expect(found()).toContain(join(root, 'a', 'new.log'));
    await d.stop();
    expect(d.running).toBe(false);
  });

  it('waits for a missing directory with one warning, then finds its files', async () => {
    const root = mkdtempSync(join(tmpdir(), 'disc-'));
    const { d, warnings, errors, found } = discovery([join(root, 'later', '*.log')]);
    await d.start();
    await d.scan();
    await d.scan();
    expect(d.running).toBe(true);
    expect(warnings).toEqual(['Directory does not exist yet; waiting for it.']);
    expect(errors).toEqual(['directory_missing']);
    mkdirSync(join(root, 'later'));
    writeFileSync(join(root, 'later', 'x.log'), '');
    await d.scan();
    expect(found()).toEqual([join(root, 'later', 'x.log')]);
    await d.stop();
  });

  it('skips matching directories and symlink loops, warning once each', async () => {
    const root = mkdtempSync(join(tmpdir(), 'disc-'));
    mkdirSync(join(root, 'dir.log'));
    symlinkSync(join(root, 'loop.log'), join(root, 'loop.log'));
    writeFileSync(join(root, 'ok.log'), '');
    const { d, warnings, found } = discovery([join(root, '*.log')]);
    await d.start();
    await d.scan();
    expect(found()).toEqual([join(root, 'ok.log')]);
    expect(warnings.sort()).toEqual([
      'Path is a symlink loop; skipping it.',
      'Path matches --path but is not a regular file; skipping it.',
    ]);
    await d.stop();
  });

  it('matches a plain path without glob characters', async () => {
    const root = mkdtempSync(join(tmpdir(), 'disc-'));
    writeFileSync(join(root, 'app.log'), '');
    writeFileSync(join(root, 'other.log'), '');
    const { d, found } = discovery([join(root, 'app.log')]);
    await d.start();
    expect(found()).toEqual([join(root, 'app.log')]);
    await d.stop();
  });

  it('takes rotated siblings of names the glob matches, not compressed or excluded ones', async () => {
    const root = mkdtempSync(join(tmpdir(), 'disc-'));
    const names = [
      'app.log',
      'app.log.1',
      'app.log.12',
      'gone.log.3',
      'app.log.2026-11-21',
      'app.log.2026-11-21_10',
      'app.log.2026-11-21_10-05',
      'app.log.2026-11-21_10-05-59',
      'app.log-20261121',
      'app.log.1.gz',
      'app.log.2.bz2',
      'app.log.3.xz',
      'app.log-20261121.zst',
      'app.log.bak',
      'app.log.1a',
      'app.txt.1',
      '.hidden.log.1',
      'debug.log',
      'debug.log.1',
      'app.log.9.tmp',
    ];
    for (const name of names) writeFileSync(join(root, name), 'x\n');
    mkdirSync(join(root, 'dir.log.1'));
    const { d, warnings, found } = discovery([join(root, '*.log')], ['debug.log', '*.tmp']);
    await d.start();
    expect(found()).toEqual(
      [
        'app.log',
        'app.log-20261121',
        'app.log.1',
        'app.log.12',
        'app.log.2026-11-21',
        'app.log.2026-11-21_10',
        'app.log.2026-11-21_10-05',
        'app.log.2026-11-21_10-05-59',
        'gone.log.3',
      ]
        .map((name) => join(root, name))
        .sort(),
    );
    expect(warnings).toEqual([]);
    await d.stop();
  });

  it('hands over an unchanged sibling once, again when it changes or is a new file on its inode', async () => {
    const root = mkdtempSync(join(tmpdir(), 'disc-'));
    const log = join(root, 'app.log');
    writeFileSync(log, 'one\n');
    const { d, found } = discovery([join(root, '*.log')]);
    await d.start();
    expect(found()).toEqual([log]);
    // Renamed between scans: the pipeline recognizes the open file by its inode under the new name.
    renameSync(log, `${log}.1`);
    writeFileSync(log, 'two\n');
    await d.scan();
    expect(found()).toEqual([log, `${log}.1`]);
    // Left out once handed over, so the pipeline reads it to its end and closes it.
    await d.scan();
    expect(found()).toEqual([log]);
    renameSync(`${log}.1`, `${log}.2`);
    await d.scan();
    expect(found()).toEqual([log]);
    writeFileSync(`${log}.2`, 'two\nmore\n');
    await d.scan();
    expect(found()).toEqual([log, `${log}.2`]);
    await d.stop();
  });

  it('hands a sibling over again when a rotation cascade moved it before it could be opened', async () => {
    const root = mkdtempSync(join(tmpdir(), 'disc-'));
    const log = join(root, 'app.log');
    writeFileSync(log, 'b\n');
    writeFileSync(`${log}.1`, 'a\n');
    let cascades = 0;
    const { d, found } = discovery([join(root, '*.log')], [], true, (files) => {
      if (cascades++ > 0) return;
      expect([...files.keys()]).toContain(`${log}.1`);
      // RotatingFileHandler rolls over between the listing and the opening: `.1` now holds another file.
      renameSync(`${log}.1`, `${log}.2`);
      renameSync(log, `${log}.1`);
      writeFileSync(log, 'c\n');
    });
    await d.start();
    await d.scan();
    expect(found()).toEqual([log, `${log}.1`, `${log}.2`]);
    await d.scan();
    expect(found()).toEqual([log]);
    await d.stop();
  });

  it('glob-matching names are unaffected; siblings older than the grace or turned off are not taken', async () => {
    const root = mkdtempSync(join(tmpdir(), 'disc-'));
    for (const name of ['app.log', 'app.log.1', 'old.log.1', 'plain.log.1']) {
      writeFileSync(join(root, name), 'x\n');
    }
    const twoHoursAgo = (Date.now() - 2 * 60 * 60_000) / 1000;
    utimesSync(join(root, 'old.log.1'), twoHoursAgo, twoHoursAgo);
    const all = discovery([join(root, 'app.log*'), join(root, 'old.log'), join(root, 'plain.log')]);
    await all.d.start();
    // A plain path has siblings too.
    expect(all.found()).toEqual([join(root, 'app.log'), join(root, 'app.log.1'), join(root, 'plain.log.1')]);
    await all.d.scan();
    // Matched by the glob itself: listed at every scan, as before.
    expect(all.found()).toEqual([join(root, 'app.log'), join(root, 'app.log.1')]);
    await all.d.stop();
    const off = discovery([join(root, '*.log')], [], false);
    await off.d.start();
    expect(off.found()).toEqual([join(root, 'app.log')]);
    await off.d.stop();
  });
});

describe('rotatedFrom', () => {
  it('strips one rotation suffix: digits, each TimedRotatingFileHandler form, logrotate dateext', () => {
    expect(rotatedFrom('app.log.1')).toBe('app.log');
    expect(rotatedFrom('app.log.105')).toBe('app.log');
    expect(rotatedFrom('app.log.1.2')).toBe('app.log.1');
    expect(rotatedFrom('app.log.2026-11-21')).toBe('app.log');
    expect(rotatedFrom('app.log.2026-11-21_23')).toBe('app.log');
    expect(rotatedFrom('app.log.2026-11-21_23-59')).toBe('app.log');
    expect(rotatedFrom('app.log.2026-11-21_23-59-07')).toBe('app.log');
    expect(rotatedFrom('app.log-20261121')).toBe('app.log');
  });

  it('rejects compressed and other names', () => {
    for (const name of [
      'app.log',
      'app.log.1.gz',
      'app.log.1.bz2',
      'app.log.1.xz',
      'app.log.1.zst',
      'app.log.2026-11-21.gz',
      'app.log-20261121.gz',
      'app.log-2026112',
      'app.log.2026-11-21_2',
      'app.log.2026-11-21_23-59-07-01',
      'app.log.',
      '.1',
      'app.log.1a',
    ]) {
      expect(rotatedFrom(name), name).toBeUndefined();
    }
  });
});
