// The sidecar config files shipped in k8s/ and images/compose/ are loaded by the real, built sidecars:
// a wrong field name or value fails here (exit code 2 with the sidecar's own message), not in a cluster.
// Paths, listen address and checkpoint directory are overridden by flags (flag > file) to fit this machine.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ProcessTracker, requireTool, SidecarProcess } from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
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

const built = requireTool('the built sidecars', {
  probe: () => {
    const unbuilt = Object.entries(BINARIES).filter(([, path]) => !existsSync(path));
    return unbuilt.length === 0 ? undefined : `not built: ${unbuilt.map(([name]) => name).join(', ')}`;
  },
  install: 'pnpm build',
});

describe.skipIf(!built.available)('sidecar config files, loaded by the built sidecars', () => {
  const sidecars = new ProcessTracker(
    (name: keyof typeof BINARIES, args: string[]) =>
      new SidecarProcess({ name, main: BINARIES[name], args, parseRecord: (line) => line }),
  );
  let dir: string | undefined;

  afterEach(async () => {
    await sidecars.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
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
    const sidecar = sidecars.start(name, [
      '--config',
      join(REPO_ROOT, config),
      '--listen',
      `127.0.0.1:${port}`,
      ...overrides,
    ]);
    // Fails at once, with its stderr, if it exits at start; names it if it never becomes ready.
    await sidecar.ready(15_000);
    expect(await sidecar.stop(), sidecar.stderrText).toBe(0);
  });
});
