import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { requireTool, waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { canDropReadOverride, logSidecars, MAIN, tempDir } from './log-sidecar-process.js';

const processes = logSidecars();
// Root reads any file unless it runs without CAP_DAC_OVERRIDE, which takes util-linux's setpriv.
const readOverride = requireTool('setpriv (to run as root without CAP_DAC_OVERRIDE)', {
  probe: () => (canDropReadOverride() ? undefined : 'running as root and setpriv --version fails'),
  install: 'apt-get install util-linux',
});
afterEach(() => processes.cleanup());

describe('log-sidecar bad input (built binary)', () => {
  // Root reads any file unless it runs without CAP_DAC_OVERRIDE, which takes util-linux's setpriv.
  it.skipIf(!readOverride.available)(
    'warns once about an unreadable file, keeps shipping the others, and reads it once allowed',
    async () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'ok.log'), 'readable\n', { mode: 0o644 });
      writeFileSync(join(dir, 'secret.log'), 'hidden\n');
      chmodSync(join(dir, 'secret.log'), 0o000);
      const sidecar = processes.start(
        [
          '--path',
          join(dir, '*.log'),
          '--scan-interval',
          '100ms',
          '--batch-timeout',
          '20ms',
          '--format',
          'raw',
        ],
        { withoutReadOverride: true },
      );
      await sidecar.ready();
      await waitFor('the readable file', () => sidecar.records.length >= 1);
      await waitFor(
        'several scans',
        async () => (await sidecar.metric('log_sidecar_discovery_scans_total')) >= 4,
      );
      const warnings = sidecar.logged('Cannot open file; retrying at every scan and shipping the others.');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ path: join(dir, 'secret.log'), code: 'EACCES' });
      expect(await sidecar.metric('log_sidecar_errors_total{kind="permission"}')).toBe(1);
      chmodSync(join(dir, 'secret.log'), 0o644);
      await waitFor('the file once readable', () => sidecar.records.length >= 2);
      expect(sidecar.messages().sort()).toEqual(['hidden', 'readable']);
      expect(await sidecar.stop()).toBe(0);
    },
  );

  it('keeps going when a file is replaced by a directory or is a symlink loop', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.log'), 'a1\n');
    writeFileSync(join(dir, 'b.log'), 'b1\n');
    symlinkSync(join(dir, 'loop.log'), join(dir, 'loop.log'));
    const sidecar = processes.start([
      '--path',
      join(dir, '*.log'),
      '--scan-interval',
      '100ms',
      '--batch-timeout',
      '20ms',
      '--format',
      'raw',
    ]);
    await sidecar.ready();
    await waitFor('both files', () => sidecar.records.length >= 2);
    rmSync(join(dir, 'b.log'));
    mkdirSync(join(dir, 'b.log'));
    await waitFor(
      'the directory to be noticed',
      () => sidecar.logged('Path matches --path but is not a regular file; skipping it.').length === 1,
    );
    appendFileSync(join(dir, 'a.log'), 'a2\n');
    await waitFor('the next line of the other file', () => sidecar.records.length >= 3);
    expect(sidecar.logged('Path is a symlink loop; skipping it.')).toHaveLength(1);
    expect(sidecar.messages().sort()).toEqual(['a1', 'a2', 'b1']);
    expect(await sidecar.stop()).toBe(0);
  });

  // Its memory is measured by bench/log-sidecar-http (BENCH_ONLY=huge-line).
  it('cuts a 1 GiB line without newline at --max-line-bytes and reads on', async () => {
    const dir = tempDir();
    const path = join(dir, 'huge.log');
    // Sparse: 1 GiB of NUL bytes with no newline costs no disk, and reads at memory speed.
    const fd = openSync(path, 'w');
    writeSync(fd, '\n', 1024 ** 3 - 1);
    closeSync(fd);
    writeFileSync(path, 'x', { flag: 'r+' }); // keep the first byte non-NUL; the last byte is the newline
    appendFileSync(path, 'after\n');
    const sidecar = processes.start([
      '--path',
      join(dir, '*.log'),
      '--max-line-bytes',
      '64KiB',
      '--batch-timeout',
      '20ms',
      '--format',
      'raw',
    ]);
    await sidecar.ready();
    await waitFor('the line after the huge one', () => sidecar.records.length >= 2, { timeoutMs: 60_000 });
    const [huge, after] = sidecar.records;
    expect(huge!.truncated).toBe(true);
    expect(Buffer.byteLength(huge!.message!)).toBe(64 * 1024);
    expect(after!.message).toBe('after');
    expect(await sidecar.metric('log_sidecar_records_truncated_total')).toBe(1);
    expect(await sidecar.stop()).toBe(0);
  });

  it.each([
    [['--path', '/tmp/x/*.log', '--format', 'xml'], '--format: "xml" is not one of json, raw'],
    [[], '--path'],
    [['--path', '/tmp/x/*.log', '--multiline', '(unclosed'], '--multiline'],
    [
      ['--path', '/tmp/x/*.log', '--shutdown-timeout', 'soon'],
      '--shutdown-timeout: "soon" is not a duration',
    ],
    [['--path', '/tmp/x/*.log', '--buffer-max-bytes', '1KiB'], '--buffer-max-bytes'],
    // Checked when the sinks are built, after the rest of the config: still one line and exit 2.
    [
      [
        '--path',
        '/tmp/x/*.log',
        '--sink-url',
        'https://logs.example.com/',
        '--sink-ca-file',
        '/nonexistent/ca.crt',
      ],
      'log-sidecar: config error: --sink-ca-file: "/nonexistent/ca.crt" cannot be read (ENOENT)',
    ],
  ])('exits 2 naming the option for bad config %j', (args, expected) => {
    const result = spawnSync(process.execPath, [MAIN, ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(expected);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
  });

  it('exits 2 when --buffer-max-bytes does not fit the heap NODE_OPTIONS gives V8', () => {
    // A bound the heap cannot hold would end in "JavaScript heap out of memory" instead of a pause.
    const result = spawnSync(
      process.execPath,
      [MAIN, '--path', '/tmp/x/*.log', '--buffer-max-bytes', '256MiB'],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, NODE_OPTIONS: '--max-old-space-size=96' },
      },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      '--buffer-max-bytes: "256MiB" is more than half of this process\'s V8 heap limit',
    );
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    const fits = spawnSync(
      process.execPath,
      [MAIN, '--path', '/tmp/x/*.log', '--buffer-max-bytes', '16MiB', '--dry-run'],
      { encoding: 'utf8', env: { PATH: process.env.PATH, NODE_OPTIONS: '--max-old-space-size=96' } },
    );
    expect(fits.stderr).toContain('the configuration is valid');
    expect(fits.status).toBe(0);
  });

  it('names the sinks: item, not a flag, when the CA file of a listed sink cannot be read', () => {
    const config = join(tempDir(), 'log-sidecar.yaml');
    writeFileSync(
      config,
      'path: [/tmp/x/*.log]\nsinks:\n  - {name: loki-eu, format: loki, url: "https://loki:3100", caFile: /nonexistent/ca.crt}\n',
    );
    const result = spawnSync(process.execPath, [MAIN, '--config', config], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(
      'log-sidecar: config error: sinks (sink loki-eu, field caFile): "/nonexistent/ca.crt" cannot be read (ENOENT); give a readable PEM file of CA certificates, e.g. /etc/ssl/loki/ca.crt',
    );
  });
});
