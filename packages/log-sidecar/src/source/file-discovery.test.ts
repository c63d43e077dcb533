import type { Stats } from 'node:fs';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@agent-sidecars/shared';
import { describe, expect, it } from 'vitest';
import type { ErrorKind } from '../source-metrics.js';
import { FileDiscovery } from './file-discovery.js';

function discovery(patterns: string[], excludes: string[] = []) {
  const warnings: string[] = [];
  const errors: ErrorKind[] = [];
  let found: ReadonlyMap<string, Stats> = new Map();
  const logger = createLogger({ name: 'test', level: 'silent' });
  logger.warn = ((_fields: unknown, msg: string) => {
    warnings.push(msg);
  }) as unknown as typeof logger.warn;
  const d = new FileDiscovery({
    patterns,
    excludes,
    intervalMs: 60_000,
    logger,
    cwd: '/',
    onScan: (files) => {
      found = files;
    },
    onError: (kind) => errors.push(kind),
  });
  return { d, warnings, errors, found: () => [...found.keys()].sort() };
}

describe('FileDiscovery', () => {
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
});
