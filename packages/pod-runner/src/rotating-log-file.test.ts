import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandProbe, requireTool } from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { RotatingLogFile } from './rotating-log-file.js';

const PYTHON = '/usr/bin/python3';
const python = requireTool('python3', {
  probe: commandProbe(PYTHON, ['--version']),
  install: 'apt-get install python3',
});
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rotating-log-'));
  dirs.push(dir);
  return dir;
}

function contents(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((name) => [name, readFileSync(join(dir, name), 'utf8')]),
  );
}

const LINES = Array.from({ length: 40 }, (_, n) => `line ${n} ${'x'.repeat(n % 7)}`);

describe('RotatingLogFile', () => {
  it('renames base -> .1 -> .2 and keeps only backupCount files', () => {
    const dir = tempDir();
    const log = new RotatingLogFile({ path: join(dir, 'app.log'), maxBytes: 20, backupCount: 2 });
    for (const text of ['aaaaaaaaa\n', 'bbbbbbbbb\n', 'ccccccccc\n', 'ddddddddd\n']) log.write(text);
    log.close();
    expect(contents(dir)).toEqual({
      'app.log': 'ddddddddd\n',
      'app.log.1': 'ccccccccc\n',
      'app.log.2': 'bbbbbbbbb\n',
    });
  });

  it('never rolls over with backupCount 0, like RotatingFileHandler', () => {
    const dir = tempDir();
    const log = new RotatingLogFile({ path: join(dir, 'app.log'), maxBytes: 10, backupCount: 0 });
    for (const text of LINES) log.write(`${text}\n`);
    log.close();
    expect(Object.keys(contents(dir))).toEqual(['app.log']);
  });

  it.skipIf(!python.available)(
    "leaves the same files as Python's RotatingFileHandler for the same writes",
    () => {
      const ours = tempDir();
      const theirs = tempDir();
      const log = new RotatingLogFile({ path: join(ours, 'app.log'), maxBytes: 64, backupCount: 3 });
      for (const text of LINES) log.write(`${text}\n`);
      log.close();
      const script = [
        'import logging, logging.handlers, sys',
        'h = logging.handlers.RotatingFileHandler(sys.argv[1], maxBytes=64, backupCount=3)',
        'h.setFormatter(logging.Formatter("%(message)s"))',
        'l = logging.getLogger("t"); l.addHandler(h); l.setLevel(logging.INFO)',
        'for line in sys.stdin.read().splitlines(): l.info(line)',
        'h.close()',
      ].join('\n');
      const python = spawnSync(PYTHON, ['-c', script, join(theirs, 'app.log')], { input: LINES.join('\n') });
      expect(python.status, python.stderr?.toString()).toBe(0);
      expect(contents(ours)).toEqual(contents(theirs));
    },
  );
});
