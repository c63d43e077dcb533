// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} references in config files are the subject here.
// The command line of both built sidecars, as a user meets it: --dry-run / validate, --print-config,
// --help, bounds, ${VAR} in files, and the one-line start-up failures. Every case spawns the binary.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  HttpReceiver,
  ProcessTracker,
  SidecarProcess,
  waitFor,
} from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { httpGet } from '../../packages/pod-runner/src/index.js';
import { REPO_ROOT } from '../static/rendered-manifests.js';

const BIN = {
  'log-sidecar': join(REPO_ROOT, 'packages/log-sidecar/dist/main.js'),
  'metrics-sidecar': join(REPO_ROOT, 'packages/metrics-sidecar/dist/main.js'),
} as const;
type Sidecar = keyof typeof BIN;
const SIDECARS = Object.keys(BIN) as Sidecar[];

function run(sidecar: Sidecar, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [BIN[sidecar], ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 30_000,
  });
}

const dirs: string[] = [];
const sidecars = new ProcessTracker(
  (sidecar: Sidecar, args: string[], env: Record<string, string>) =>
    new SidecarProcess({ name: sidecar, main: BIN[sidecar], args, env, parseRecord: (line) => line }),
);
const servers: Server[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-cli-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await sidecars.cleanup();
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A port held by this test (another process, as far as the sidecar can tell). */
async function occupiedPort(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** Starts a sidecar and resolves with its exit code and stderr once it exits. */
function runToExit(sidecar: Sidecar, args: string[], env: Record<string, string> = {}) {
  const started = sidecars.start(sidecar, args, env);
  const exited = started.exited.then(({ code }) => ({ code, stderr: started.stderrText }));
  return { child: started.child, exited, stderr: () => started.stderrText };
}

const baseArgs = (sidecar: Sidecar, dir: string): string[] =>
  sidecar === 'log-sidecar' ? ['--path', join(dir, '*.log'), '--checkpoint-dir', join(dir, 'ckpt')] : [];

describe('validate without running', () => {
  it.each(SIDECARS)(
    '%s --dry-run and validate exit 0 without binding the port or creating files',
    async (sidecar) => {
      const dir = tempDir();
      // The port is taken: a sidecar that tried to listen would fail, one that only checks does not.
      const port = await occupiedPort();
      for (const mode of [['--dry-run'], ['validate']]) {
        const args =
          mode[0] === 'validate'
            ? [...mode, ...baseArgs(sidecar, dir)]
            : [...baseArgs(sidecar, dir), ...mode];
        const result = run(sidecar, [...args, '--listen', `127.0.0.1:${port}`]);
        expect(result.stderr).toBe(`${sidecar}: the configuration is valid; nothing was started.\n`);
        expect(result.status).toBe(0);
        expect(result.stdout).toBe('');
      }
      expect(existsSync(join(dir, 'ckpt'))).toBe(false);
    },
  );

  it.each(SIDECARS)(
    '%s --dry-run exits 2 with one line for a bad value and for an unresolvable --listen host',
    (sidecar) => {
      const bad = run(sidecar, [...baseArgs(sidecar, tempDir()), '--shutdown-timeout', '0s', '--dry-run']);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(
        new RegExp(
          `^${sidecar}: config error: --shutdown-timeout: "0s" is below the minimum of \\d+m?s; use a duration from`,
        ),
      );
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      const host = run(
        sidecar,
        [...baseArgs(sidecar, tempDir()), '--listen', 'no-such-host.invalid:9999', 'validate']
          .filter((a) => a !== 'validate')
          .concat('--dry-run'),
      );
      expect(host.status).toBe(2);
      expect(host.stderr).toMatch(
        /--listen: "no-such-host\.invalid:9999" names a host that does not resolve/,
      );
      expect(host.stderr.trim().split('\n')).toHaveLength(1);
    },
  );

  it('log-sidecar --dry-run exits 2 when a token file or CA file named by a sink cannot be read', () => {
    const dir = tempDir();
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      'path: /tmp/none/*.log\nsinks:\n  - {type: http, name: loki, url: "${LOKI_URL}", format: loki, tokenFile: /nonexistent/token}\n',
    );
    const token = run('log-sidecar', ['validate', '--config', config], { LOKI_URL: 'http://127.0.0.1:3100' });
    expect(token.status).toBe(2);
    expect(token.stderr).toBe(
      'log-sidecar: config error: sinks (sink loki, field tokenFile): "/nonexistent/token" cannot be read (ENOENT); mount the Secret that holds it, or give the path of a readable file\n',
    );
    const ca = run('log-sidecar', [
      '--path',
      '/tmp/none/*.log',
      '--sink-url',
      'https://h/',
      '--sink-ca-file',
      '/nonexistent/ca.pem',
      '--dry-run',
    ]);
    expect(ca.status).toBe(2);
    expect(ca.stderr).toMatch(/--sink-ca-file: "\/nonexistent\/ca\.pem" cannot be read \(ENOENT\)/);
  });

  it('log-sidecar names an unset ${VAR} of its config file and takes defaults', () => {
    const dir = tempDir();
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      'path: ["${LOG_DIR:-/var/log/agent}/*.log"]\nsinks:\n  - {type: http, url: "${LOKI_URL}"}\n',
    );
    const unset = run('log-sidecar', ['--dry-run', '--config', config]);
    expect(unset.status).toBe(2);
    expect(unset.stderr).toBe(
      `log-sidecar: config error: sinks (in ${config}): item 1, field url: uses \${LOKI_URL}, which is not set in the environment; set LOKI_URL, or give a default as in \${LOKI_URL:-value}\n`,
    );
    const printed = run('log-sidecar', ['--print-config', '--config', config], {
      LOKI_URL: 'http://u:hunter2@loki:3100',
    });
    expect(printed.status).toBe(0);
    expect(printed.stdout).toContain(`path: ["/var/log/agent/*.log"]  # file ${config}`);
    expect(printed.stdout).not.toContain('hunter2');
  });

  it.each(SIDECARS)(
    '%s --print-config shows each value as written, where it came from, secrets masked',
    (sidecar) => {
      const dir = tempDir();
      const config = join(dir, 'config.yaml');
      writeFileSync(config, 'shutdownTimeout: 1m30s\n');
      const secretArgs =
        sidecar === 'log-sidecar'
          ? [
              '--sink-url',
              'http://user:hunter2@127.0.0.1:3100',
              '--sink-header',
              'Authorization: Splunk hunter2',
            ]
          : ['--target', 'app=http://user:hunter2@127.0.0.1:8000/metrics'];
      const result = run(
        sidecar,
        [...baseArgs(sidecar, dir), '--config', config, '--print-config', ...secretArgs],
        {
          [`${sidecar === 'log-sidecar' ? 'LOG' : 'METRICS'}_SIDECAR_LOG_LEVEL`]: 'warn',
        },
      );
      expect(result.status).toBe(0);
      expect(result.stdout).toContain(`shutdownTimeout: "1m30s"  # file ${config}`);
      expect(result.stdout).toMatch(/logLevel: "warn" {2}# env (LOG|METRICS)_SIDECAR_LOG_LEVEL/);
      expect(result.stdout).toMatch(/listen: "0\.0\.0\.0:909\d" {2}# default/);
      expect(result.stdout).not.toContain('hunter2');
      expect(result.stdout).toContain('***');
    },
  );
});

describe('bounds: a value that would make the sidecar misbehave is a config error', () => {
  it.each([
    [
      'log-sidecar',
      ['--sink-url', 'http://127.0.0.1:9/', '--sink-request-timeout', '0s'],
      '--sink-request-timeout: "0s" is below the minimum of 1s',
    ],
    [
      'log-sidecar',
      ['--sink-format', 'loki'],
      '--sink-format: "loki" is given, but no HTTP sink is configured, so nothing would use it',
    ],
    ['log-sidecar', ['--sink-retry-limit', '0'], '--sink-retry-limit: "0" is out of range'],
    ['log-sidecar', ['--max-in-flight', '100'], '--max-in-flight: "100" is out of range'],
    ['log-sidecar', ['--batch-timeout', '0s'], '--batch-timeout: "0s" is below the minimum of 1ms'],
    ['log-sidecar', ['--scan-interval', '10ms'], '--scan-interval: "10ms" is below the minimum of 50ms'],
    ['log-sidecar', ['--batch-max-bytes', '10'], '--batch-max-bytes: "10" is below the minimum of 1KiB'],
    ['log-sidecar', ['--max-line-bytes', '1GiB'], '--max-line-bytes: "1GiB" is above the maximum of 64MiB'],
    ['log-sidecar', ['--batch-max-records', '0'], '--batch-max-records: "0" is out of range'],
    ['log-sidecar', ['--checkpoint-grace', '1s'], '--checkpoint-grace: "1s" is below the minimum of 1m'],
    ['metrics-sidecar', ['--interval', '1ms'], '--interval: "1ms" is below the minimum of 100ms'],
    ['metrics-sidecar', ['--body-limit', '0'], '--body-limit: "0" is below the minimum of 1KiB'],
    ['metrics-sidecar', ['--sample-limit', '0'], '--sample-limit: "0" is out of range'],
  ] as [Sidecar, string[], string][])('%s %j exits 2 with one line', (sidecar, args, message) => {
    const result = run(sidecar, [...baseArgs(sidecar, tempDir()), ...args]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${sidecar}: config error: ${message}`);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
  });

  it('log-sidecar rejects path: 5 in a config file', () => {
    const dir = tempDir();
    const config = join(dir, 'config.yaml');
    writeFileSync(config, 'path: 5\n');
    const result = run('log-sidecar', ['--config', config]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      `log-sidecar: config error: path (in ${config}): "5" is a number, not <glob>; write <glob> as text\n`,
    );
  });

  it('log-sidecar accepts 1h and 1h30m and writes its default grace as 1h', () => {
    const ok = run('log-sidecar', [
      '--path',
      '/tmp/none/*.log',
      '--checkpoint-grace',
      '1h30m',
      '--print-config',
    ]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('checkpointGrace: "1h30m"  # flag --checkpoint-grace');
    expect(run('log-sidecar', ['--help']).stdout).toMatch(/--checkpoint-grace <duration>\n[^-]*default 1h;/);
  });
});

describe('--help', () => {
  it.each(SIDECARS)('%s --help is grouped, wrapped to the terminal and ends with an example', (sidecar) => {
    const result = run(sidecar, ['--help'], { COLUMNS: '72' });
    expect(result.status).toBe(0);
    const lines = result.stdout.split('\n');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(72);
    const headings = lines.filter((line) => /^[A-Z][^:]*:$/.test(line) || /^[A-Z].*\):$/.test(line));
    expect(headings.length).toBeGreaterThanOrEqual(4);
    expect(result.stdout).toMatch(/--dry-run\n/);
    expect(result.stdout).toContain(`  ${sidecar} validate --config `);
    expect(result.stdout).toContain('\nExample:\n');
    expect(result.stdout.trimEnd().split('\n').at(-1)).toMatch(
      new RegExp(`^ {2}${sidecar} validate --config`),
    );
  });

  it('log-sidecar --help lists its groups in order and mentions the sinks: list', () => {
    const help = run('log-sidecar', ['--help']).stdout;
    const order = ['Source', 'Parsing', 'Sinks', 'Delivery', 'Runtime'].map((word) =>
      help.indexOf(`\n${word} (`) >= 0 ? help.indexOf(`\n${word} (`) : help.indexOf(`\n${word}:`),
    );
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(help).toContain('Config file only:\n  sinks:');
    expect(help).toMatch(/POD_NAME, POD_NAMESPACE, NODE_NAME and\s+CONTAINER_NAME/);
  });
});

describe('start-up failures are one line with the documented exit code', () => {
  it.each(SIDECARS)(
    '%s on a port in use exits 1 with one line naming the port and --listen, no stack',
    async (sidecar) => {
      const port = await occupiedPort();
      const { exited } = runToExit(sidecar, [
        ...baseArgs(sidecar, tempDir()),
        '--listen',
        `127.0.0.1:${port}`,
      ]);
      const { code, stderr } = await exited;
      expect(code).toBe(1);
      const fatal = stderr
        .trim()
        .split('\n')
        .filter((line) => line.includes('"level":"fatal"'));
      expect(fatal).toHaveLength(1);
      expect(JSON.parse(fatal[0]!).msg).toBe(
        `Cannot listen on 127.0.0.1:${port}: the port is in use by another process; stop that process or choose another port with --listen.`,
      );
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(stderr).not.toContain('"stack"');
    },
  );

  it.each(SIDECARS)(
    '%s with an unresolvable --listen host exits 2 with the config error line',
    async (sidecar) => {
      const { exited } = runToExit(sidecar, [
        ...baseArgs(sidecar, tempDir()),
        '--listen',
        'no-such-host.invalid:0',
      ]);
      const { code, stderr } = await exited;
      expect(code).toBe(2);
      const last = stderr.trim().split('\n').at(-1);
      expect(last).toMatch(
        new RegExp(
          `^${sidecar}: config error: --listen: "no-such-host\\.invalid:0" names a host that does not resolve`,
        ),
      );
      expect(stderr).not.toContain('"stack"');
    },
  );

  it('log-sidecar logs at start which labels it took from where', async () => {
    const dir = tempDir();
    const port = await freePort();
    const { child, stderr } = runToExit(
      'log-sidecar',
      [...baseArgs('log-sidecar', dir), '--listen', `127.0.0.1:${port}`, '--label', 'team=search'],
      {
        CONTAINER_NAME: 'unrelated-shell-var',
        POD_NAME: 'agent-0',
      },
    );
    const line = await waitFor(
      'the labels line',
      () =>
        stderr()
          .split('\n')
          .find((l) => l.includes('Labels added to every record.')),
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    expect(line, stderr()).toBeDefined();
    expect(JSON.parse(line!).labels).toEqual({
      pod: { value: 'agent-0', from: 'env POD_NAME' },
      container: { value: 'unrelated-shell-var', from: 'env CONTAINER_NAME' },
      team: { value: 'search', from: '--label' },
    });
    child.kill('SIGTERM');
  });

  it('log-sidecar counts one file missed by two sinks as one file in its deadline report, without a stack', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'app.log'), 'one\ntwo\nthree\n');
    const closed = await freePort(); // nothing listens there: both sinks fail until the deadline
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `sinks:\n  - {type: http, name: a, url: "http://127.0.0.1:${closed}/"}\n  - {type: http, name: b, url: "http://127.0.0.1:${closed}/"}\n`,
    );
    const port = await freePort();
    const { child, exited } = runToExit('log-sidecar', [
      ...baseArgs('log-sidecar', dir),
      '--config',
      config,
      '--listen',
      `127.0.0.1:${port}`,
      '--shutdown-timeout',
      '1s',
      '--on-deadline',
      'drop',
      '--batch-timeout',
      '10ms',
    ]);
    await waitFor(
      'the log-sidecar to be ready',
      async () => ((await httpGet(`http://127.0.0.1:${port}/readyz`)).status === 200 ? true : undefined),
      { timeoutMs: 20_000 },
    );
    child.kill('SIGTERM');
    const { code, stderr: log } = await exited;
    expect(code).toBe(1);
    const summary = log
      .split('\n')
      .filter((line) => line.includes('before the shutdown deadline (see the lines above)'));
    expect(summary, log).toHaveLength(1);
    expect(JSON.parse(summary[0]!).msg).toMatch(
      /^1 file was not fully delivered to 2 sinks before the shutdown deadline/,
    );
    expect(log).not.toContain('"stack"');
  });

  it('log-sidecar ships OTLP to OTEL_EXPORTER_OTLP_ENDPOINT with its headers, and a header read from a file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'app.log'), '{"msg":"one"}\n{"msg":"two"}\n');
    const keyFile = join(dir, 'dd-api-key');
    writeFileSync(keyFile, 'dd-secret-key-123\n');
    const receiver = new HttpReceiver();
    const base = await receiver.start();
    try {
      const port = await freePort();
      const { child, stderr } = runToExit(
        'log-sidecar',
        [
          ...baseArgs('log-sidecar', dir),
          '--listen',
          `127.0.0.1:${port}`,
          '--sink-format',
          'otlp',
          '--sink-header-file',
          `DD-API-KEY: ${keyFile}`,
          '--sink-header',
          'X-Team: own',
          '--batch-timeout',
          '10ms',
        ],
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: `${base.origin}/collector`,
          OTEL_EXPORTER_OTLP_HEADERS: 'x-env=from%20env,x-team=env',
        },
      );
      const request = await waitFor('an OTLP request', () => receiver.requests[0], { timeoutMs: 20_000 });
      expect(request.url).toBe('/collector/v1/logs');
      expect(request.headers['dd-api-key']).toBe('dd-secret-key-123');
      expect(request.headers['x-env']).toBe('from env');
      expect(request.headers['x-team']).toBe('own');
      expect(request.body).toContain('"one"');
      child.kill('SIGTERM');
      await waitFor('the sidecar to exit', () => child.exitCode !== null || child.signalCode !== null, {
        timeoutMs: 20_000,
      });
      expect(stderr()).not.toContain('dd-secret-key-123');
    } finally {
      await receiver.close();
    }
  });

  it('log-sidecar --dry-run exits 2 for a header file that cannot be read, and masks header values in --print-config', () => {
    const missing = run('log-sidecar', [
      '--path',
      '/tmp/none/*.log',
      '--sink-url',
      'http://127.0.0.1:9/',
      '--sink-header-file',
      'DD-API-KEY: /nonexistent/dd',
      '--dry-run',
    ]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(
      'log-sidecar: config error: --sink-header-file: "/nonexistent/dd" cannot be read (ENOENT); mount the Secret that holds it, or give the path of a readable file\n',
    );
    const dir = tempDir();
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      'path: /tmp/none/*.log\nsinks:\n  - {type: http, url: "http://u:hunter2@127.0.0.1:9/", headers: {DD-API-KEY: hunter2, X-Team: search}}\n',
    );
    const printed = run('log-sidecar', ['--print-config', '--config', config]);
    expect(printed.status).toBe(0);
    expect(printed.stdout).not.toContain('hunter2');
    expect(printed.stdout).toContain('DD-API-KEY: ***');
    expect(printed.stdout).toContain('X-Team: search');
  });
});
