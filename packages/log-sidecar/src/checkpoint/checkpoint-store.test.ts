import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_FORMAT_VERSION, CheckpointStore } from './checkpoint-store.js';

const file = { base: '1-2-f', path: '/logs/a.log', dev: 1, ino: 2 };

describe('CheckpointStore', () => {
  it('writes atomically with a version and reads it back', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ckpt-')), 'nested');
    const store = new CheckpointStore(dir);
    expect(store.load()).toEqual({ kind: 'missing' });
    store.advance('k', 'stdout', 100, file, 1);
    expect(store.dirty).toBe(true);
    store.write();
    expect(store.dirty).toBe(false);
    const document = JSON.parse(readFileSync(join(dir, 'checkpoints.json'), 'utf8'));
    expect(document.version).toBe(CHECKPOINT_FORMAT_VERSION);
    const again = new CheckpointStore(dir);
    expect(again.load()).toEqual({ kind: 'loaded', files: 1, version: CHECKPOINT_FORMAT_VERSION });
    expect(again.offset('k', 'stdout')).toBe(100);
    expect(again.offset('k', 'loki')).toBe(0);
  });

  it('reads a size back, and drops an entry whose size is not a byte count (read again: duplicates, never loss)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
    const entry = { ...file, offsets: { stdout: 10 }, seenAt: 1 };
    const files = {
      good: { ...entry, size: 40 },
      old: entry,
      bad: { ...entry, size: -1 },
      worse: { ...entry, size: '9' },
    };
    writeFileSync(join(dir, 'checkpoints.json'), JSON.stringify({ version: 2, writtenAt: '', files }));
    const store = new CheckpointStore(dir);
    expect(store.load()).toEqual({ kind: 'loaded', files: 2, version: 2 });
    expect(store.get('good')?.size).toBe(40);
    expect(store.get('old')?.size).toBeUndefined();
    expect(store.get('bad')).toBeUndefined();
  });

  it('never moves an offset backwards', () => {
    const store = new CheckpointStore(mkdtempSync(join(tmpdir(), 'ckpt-')));
    store.advance('k', 's', 50, file, 1);
    store.advance('k', 's', 20, file, 2);
    expect(store.offset('k', 's')).toBe(50);
  });

  it('reports an unusable file instead of throwing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
    writeFileSync(join(dir, 'checkpoints.json'), '{"version":1,');
    expect(new CheckpointStore(dir).load().kind).toBe('unusable');
    writeFileSync(join(dir, 'checkpoints.json'), '{"version":99,"files":{}}');
    const outcome = new CheckpointStore(dir).load();
    expect(outcome).toMatchObject({ kind: 'unusable' });
    expect((outcome as { reason: string }).reason).toContain('99');
  });

  it("keeps each entry's base and content marker across a write and a load", () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
    const store = new CheckpointStore(dir);
    store.advance('1-2-f~x', 's', 100, file, 1);
    store.mark('1-2-f~x', { offset: 100, bytes: 64, hash: 'abc' });
    store.write();
    const again = new CheckpointStore(dir);
    expect(again.load()).toEqual({ kind: 'loaded', files: 1, version: CHECKPOINT_FORMAT_VERSION });
    expect(again.withBase('1-2-f').map(([key, entry]) => [key, entry.marker])).toEqual([
      ['1-2-f~x', { offset: 100, bytes: 64, hash: 'abc' }],
    ]);
  });

  it('reads a format 1 file: keys become bases, and no entry has a marker', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
    const v1 = { path: '/logs/a.log', dev: 1, ino: 2, offsets: { s: 7 }, seenAt: 5 };
    writeFileSync(join(dir, 'checkpoints.json'), JSON.stringify({ version: 1, files: { '1-2-f': v1 } }));
    const store = new CheckpointStore(dir);
    expect(store.load()).toEqual({ kind: 'loaded', files: 1, version: 1 });
    expect(store.withBase('1-2-f')).toEqual([['1-2-f', { ...v1, base: '1-2-f', marker: undefined }]]);
  });

  it('collects entries of files gone longer than the grace period', () => {
    const store = new CheckpointStore(mkdtempSync(join(tmpdir(), 'ckpt-')));
    store.advance('old', 's', 1, file, 1000);
    store.advance('live', 's', 1, file, 1000);
    store.advance('recent', 's', 1, file, 9000);
    expect(store.collectGarbage(10_000, 5000, new Set(['live']))).toEqual(['/logs/a.log']);
    expect(store.get('old')).toBeUndefined();
    expect(store.get('live')).toBeDefined();
    expect(store.get('recent')).toBeDefined();
  });
});
