// The sidecar config files shipped in k8s/ and images/compose/ are loaded by the real, built sidecars:
// a wrong field name or value fails here (exit code 2 with the sidecar's own message), not in a cluster.
// Paths, listen address and checkpoint directory are overridden by flags (flag > file) to fit this machine.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../packages/pod-runner/src/index.js';
import { REPO_ROOT } from './rendered-manifests.js';

const BINARIES = {
  'log-sidecar': join(REPO_ROOT, 'packages/log-sidecar/dist/main.js'),
  'metrics-sidecar': join(REPO_ROOT, 'packages/metrics-sidecar/dist/main.js'),
} as const;

const CONFIGS: [keyof typeof BINARIES, string][] = [
  ['log-sidecar', 'k8s/components/log-sidecar/inject/log-sidecar.yaml'],
  ['log-sidecar', 'k8s/overlays/loki/log-sidecar.yaml'],
  ['log-sidecar', 'images/compose/log-sidecar.yaml'],
  ['metrics-sidecar', 'k8s/components/metrics-sidecar/inject/metrics-sidecar.yaml'],
  ['metrics-sidecar', 'images/compose/metrics-sidecar.yaml'],
];

const unbuilt = Object.entries(BINARIES)
  .filter(([, path]) => !existsSync(path))
  .map(([name]) => name);
if (unbuilt.length > 0)
  console.warn(`skipping the sidecar config checks: not built (${unbuilt.join(', ')}); run pnpm build`);

describe.skipIf(unbuilt.length > 0)('sidecar config files, loaded by the built sidecars', () => {
  let child: ChildProcess | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    child = undefined;
    dir = undefined;
  });

  it.each(CONFIGS)('%s accepts %s, becomes ready and exits 0 on SIGTERM', async (name, config) => {
    dir = mkdtempSync(join(tmpdir(), 'sidecar-config-'));
    const port = await freePort();
    const overrides =
      name === 'log-sidecar'
        ? ['--path', join(dir, '*.log'), '--checkpoint-dir', join(dir, 'checkpoints')]
        : // The app is not running: the metrics-sidecar must become ready without it.
          [];
    const argv = [
      BINARIES[name],
      '--config',
      join(REPO_ROOT, config),
      '--listen',
      `127.0.0.1:${port}`,
      ...overrides,
    ];
    const proc = spawn(process.execPath, argv, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH },
    });
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

    const deadline = Date.now() + 15_000;
    let ready = false;
    while (!ready && Date.now() < deadline) {
      if (proc.exitCode !== null) break;
      ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (res) => res.ok,
        () => false,
      );
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(proc.exitCode, `${name} exited at start: ${stderr}`).toBeNull();
    expect(ready, `${name} never became ready: ${stderr}`).toBe(true);

    proc.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
  });
});
