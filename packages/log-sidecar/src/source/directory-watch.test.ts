import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { DirectoryWatch } from './directory-watch.js';

const dirs: string[] = [];
const watches: DirectoryWatch[] = [];
afterEach(() => {
  for (const watch of watches.splice(0)) watch.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'directory-watch-'));
  dirs.push(dir);
  const changes: number[] = [];
  const unwatchable: [string, string][] = [];
  const watch = new DirectoryWatch({
    onChange: () => changes.push(Date.now()),
    onUnwatchable: (directory, code) => unwatchable.push([directory, code]),
    now: Date.now,
  });
  watches.push(watch);
  return { dir, watch, changes, unwatchable };
}

describe('DirectoryWatch (real inotify)', () => {
  it('calls onChange once for a write to a file in a watched directory, then lets go', async () => {
    const { dir, watch, changes } = setup();
    writeFileSync(join(dir, 'app.log'), 'first\n');
    watch.arm([dir]);
    expect(watch.watching).toBe(1);
    appendFileSync(join(dir, 'app.log'), 'second\n');
    await waitFor('the change', () => changes.length === 1);
    expect(watch.watching).toBe(0);
    expect(watch.events).toBe(1);
    // Disarmed: later writes cost no event until it is armed again.
    appendFileSync(join(dir, 'app.log'), 'third\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(changes).toHaveLength(1);
    watch.arm([dir]);
    renameSync(join(dir, 'app.log'), join(dir, 'app.log.1'));
    await waitFor('the rename', () => changes.length === 2);
  });

  it('reports a directory it cannot watch and leaves it to the poll', () => {
    const { dir, watch, unwatchable } = setup();
    const missing = join(dir, 'not-there');
    watch.arm([missing, dir]);
    expect(unwatchable).toEqual([[missing, 'ENOENT']]);
    expect(watch.watching).toBe(1);
    // Not tried again at every arm: once a minute.
    watch.disarm();
    watch.arm([missing]);
    expect(unwatchable).toHaveLength(1);
  });

  it('arms nothing after close', async () => {
    const { dir, watch, changes } = setup();
    watch.close();
    watch.arm([dir]);
    expect(watch.watching).toBe(0);
    writeFileSync(join(dir, 'app.log'), 'x\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(changes).toHaveLength(0);
  });
});
