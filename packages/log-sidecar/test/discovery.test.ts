import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { logSidecars, tempDir } from './log-sidecar-process.js';

const processes = logSidecars();
afterEach(() => processes.cleanup());

describe('log-sidecar discovery (built binary)', () => {
  it('is ready with no files, then reads files that appear later from their start', async () => {
    const dir = tempDir();
    const sidecar = processes.start([
      '--path',
      join(dir, '*.log'),
      '--format',
      'raw',
      '--batch-timeout',
      '50ms',
    ]);
    await sidecar.ready();
    writeFileSync(join(dir, 'late.log'), 'first\nsecond\n');
    writeFileSync(join(dir, 'ignored.txt'), 'not matched\n');
    await waitFor('both lines of the late file', () => sidecar.records.length >= 2);
    appendFileSync(join(dir, 'late.log'), 'third\n');
    await waitFor('the appended line', () => sidecar.records.length >= 3);
    expect(sidecar.messages()).toEqual(['first', 'second', 'third']);
    expect(sidecar.records[0]).toMatchObject({ path: join(dir, 'late.log') });
    expect(await sidecar.stop()).toBe(0);
  });

  it('waits for a directory that does not exist yet, warning once', async () => {
    const root = tempDir();
    const dir = join(root, 'not-yet');
    const sidecar = processes.start([
      '--path',
      join(dir, '*.log'),
      '--checkpoint-dir',
      join(root, 'ckpt'),
      '--scan-interval',
      '100ms',
      '--batch-timeout',
      '50ms',
    ]);
    await sidecar.ready();
    // Several scans pass while the directory is missing.
    await waitFor(
      'a few scans',
      async () => (await sidecar.metric('log_sidecar_discovery_scans_total')) >= 4,
    );
    mkdirSync(dir);
    writeFileSync(join(dir, 'app.log'), '{"msg":"hello","ts":1700000000}\n');
    await waitFor('the record from the late directory', () => sidecar.records.length >= 1);
    expect(sidecar.records[0]!.fields).toEqual({ msg: 'hello', ts: 1700000000 });
    expect(sidecar.records[0]!.time).toBe('2023-11-14T22:13:20.000Z');
    expect(sidecar.logged('Directory does not exist yet; waiting for it.')).toHaveLength(1);
    expect(await sidecar.stop()).toBe(0);
  });

  it('honours --exclude and carries labels from --label and the Downward API env', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.log'), 'keep\n');
    writeFileSync(join(dir, 'debug.log'), 'drop\n');
    const sidecar = processes.start(
      [
        '--path',
        join(dir, '*.log'),
        '--exclude',
        'debug.log',
        '--label',
        'team=search',
        '--batch-timeout',
        '50ms',
      ],
      { env: { POD_NAME: 'agent-0', POD_NAMESPACE: 'prod' } },
    );
    await sidecar.ready();
    await waitFor('the kept line', () => sidecar.records.length >= 1);
    expect(await sidecar.stop()).toBe(0);
    expect(sidecar.messages()).toEqual(['keep']);
    expect(sidecar.records[0]!.labels).toEqual({ pod: 'agent-0', namespace: 'prod', team: 'search' });
  });

  it('groups a Python traceback into one record with --multiline python, flushed after the timeout', async () => {
    const dir = tempDir();
    const traceback = [
      'ERROR:agent:request failed',
      'Traceback (most recent call last):',
      '  File "/app/main.py", line 10, in handler',
      '    result = 1 / 0',
      '             ~~^~~',
      'ZeroDivisionError: division by zero',
    ];
    writeFileSync(join(dir, 'app.log'), `${traceback.join('\n')}\n`);
    const sidecar = processes.start([
      '--path',
      join(dir, '*.log'),
      '--multiline',
      'python',
      '--multiline-timeout',
      '200ms',
      '--batch-timeout',
      '50ms',
    ]);
    await sidecar.ready();
    await waitFor('the traceback record', () => sidecar.records.length >= 1);
    expect(sidecar.records[0]!.message).toBe(traceback.join('\n'));
    expect(await sidecar.stop()).toBe(0);
    expect(sidecar.records).toHaveLength(1);
  });
});
