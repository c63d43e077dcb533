// Makes the container tests' engine once per run: a private dockerd with the three images built
// (scripts/container-env.sh up: installs, starts, base images or their stand-ins, builds), stopped by its
// PID afterwards, with any container or volume a failed test left removed by id first. Where no engine can be had,
// the tests skip with the reason printed; under CI=true that is a failure instead.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ContainerEngineInfo {
  /** unix://... of the private engine, when there is one. */
  readonly dockerHost?: string;
  /** Why the tests cannot run here. */
  readonly reason?: string;
  readonly setupMs?: number;
}

declare module 'vitest' {
  export interface ProvidedContext {
    containerEngine: ContainerEngineInfo;
  }
}

function whyNoEngine(): string | undefined {
  if (process.platform !== 'linux') return `a private Docker engine needs Linux, not ${process.platform}`;
  if (process.getuid?.() !== 0)
    return 'starting a private Docker engine needs root (as root on Debian, npm test installs and starts one)';
  const hasDockerd = spawnSync('sh', ['-c', 'command -v dockerd'], { encoding: 'utf8' }).status === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  if (!hasDockerd && !hasApt) return 'dockerd is not installed and there is no apt-get to install docker.io';
  return undefined;
}

export default function setup(project: TestProject): (() => void) | undefined {
  const reason = whyNoEngine();
  if (reason) {
    if (process.env.CI === 'true') throw new Error(`CI=true: the container tests must run, but ${reason}`);
    console.warn(`container tests skipped: ${reason}`);
    project.provide('containerEngine', { reason });
    return undefined;
  }
  // Short: the engine's unix socket lives here (108-byte path limit).
  const dir = mkdtempSync('/tmp/asc-');
  const env = { ...process.env, AGENT_SIDECARS_ENGINE_DIR: dir };
  const script = join(REPO_ROOT, 'scripts/container-env.sh');
  const startedAt = Date.now();
  const up = spawnSync('sh', [script, 'up'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const stop = () => {
    const dockerHost = `unix://${dir}/docker.sock`;
    if (existsSync(join(dir, 'docker.sock'))) {
      const cli = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
      const denv = { ...process.env, DOCKER_HOST: dockerHost };
      // The engine is this run's alone: whatever a failed test left in it is removed, by id.
      const list = (args: string[]) =>
        spawnSync(cli, args, { env: denv, encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
      const containers = list(['ps', '--all', '--quiet']);
      if (containers.length > 0) spawnSync(cli, ['rm', '--force', '--volumes', ...containers], { env: denv });
      const volumes = list(['volume', 'ls', '--quiet']);
      if (volumes.length > 0) spawnSync(cli, ['volume', 'rm', '--force', ...volumes], { env: denv });
    }
    spawnSync('sh', [script, 'stop'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    rmSync(dir, { recursive: true, force: true });
  };
  if (up.status !== 0) {
    stop();
    throw new Error(`scripts/container-env.sh up failed (exit ${up.status}); its output is above`);
  }
  project.provide('containerEngine', {
    dockerHost: `unix://${dir}/docker.sock`,
    setupMs: Date.now() - startedAt,
  });
  console.warn(`container tests: private engine ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  return stop;
}
