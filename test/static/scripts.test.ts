// Checks by the tools that own the formats: shellcheck for the kind script, promtool for the Prometheus
// configurations. Where its tool is missing, each is skipped with the reason printed, or fails under CI=true.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { commandProbe, requireTool } from '@agent-sidecars/shared/testing';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from './rendered-manifests.js';

const shellcheck = requireTool('shellcheck', {
  probe: commandProbe('shellcheck', ['--version']),
  install: 'apt-get install shellcheck',
});
const promtool = requireTool('promtool', {
  probe: commandProbe('promtool', ['--version']),
  install: 'apt-get install prometheus (it brings promtool)',
});

describe('test/kind/run.sh', () => {
  const script = join(REPO_ROOT, 'test/kind/run.sh');

  it('is executable and runs under bash with errexit, nounset and pipefail', () => {
    expect(statSync(script).mode & 0o111).not.toBe(0);
    const text = readFileSync(script, 'utf8');
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text).toContain('set -euo pipefail');
  });

  it.skipIf(!shellcheck.available)('is clean under shellcheck, infos included', () => {
    const run = spawnSync('shellcheck', ['--severity=info', script], { encoding: 'utf8' });
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});

describe('the container environment scripts', () => {
  const scripts = ['scripts/container-env.sh', 'bench/containers/run.sh'];

  it.skipIf(!shellcheck.available)('are clean under shellcheck, infos included', () => {
    const run = spawnSync('shellcheck', ['--severity=info', ...scripts.map((s) => join(REPO_ROOT, s))], {
      encoding: 'utf8',
    });
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('container-env.sh refuses an unknown step with its usage', () => {
    const run = spawnSync('sh', [join(REPO_ROOT, 'scripts/container-env.sh'), 'launch'], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^container-env: usage: .* up\|install\|start\|bases\|build\|env\|stop/);
  });
});

describe('test/kind/workflow.yaml', () => {
  const workflow = parse(readFileSync(join(REPO_ROOT, 'test/kind/workflow.yaml'), 'utf8')) as {
    on: unknown;
    jobs: Record<
      string,
      { 'runs-on': string; strategy?: { matrix?: Record<string, string[]> }; steps: { run?: string }[] }
    >;
  };

  it('runs test/kind/run.sh on node images >= 1.29', () => {
    const job = workflow.jobs.kind!;
    expect(job['runs-on']).toMatch(/^ubuntu-/);
    expect(job.steps.some((s) => s.run?.trim() === 'test/kind/run.sh')).toBe(true);
    const images = job.strategy?.matrix?.['node-image'] ?? [];
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) {
      const minor = Number(/^kindest\/node:v1\.(\d+)\.\d+$/.exec(image)?.[1]);
      expect(minor, image).toBeGreaterThanOrEqual(29);
    }
  });
});

describe.skipIf(!promtool.available)('Prometheus configurations', () => {
  it('images/compose/prometheus.yml passes promtool check config', () => {
    const run = spawnSync('promtool', ['check', 'config', join(REPO_ROOT, 'images/compose/prometheus.yml')], {
      encoding: 'utf8',
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
  });

  it('k8s/prometheus/prometheus.yml passes promtool check config where promtool has Kubernetes discovery', (ctx) => {
    const run = spawnSync('promtool', ['check', 'config', join(REPO_ROOT, 'k8s/prometheus/prometheus.yml')], {
      encoding: 'utf8',
    });
    const output = run.stdout + run.stderr;
    if (/field kubernetes_sd_configs not found/.test(output)) {
      // Debian builds Prometheus without Kubernetes service discovery; the official builds have it.
      console.warn(
        'skipping the Kubernetes scrape config check: this promtool was built without kubernetes_sd',
      );
      ctx.skip();
    }
    expect(run.status, output).toBe(0);
  });
});

describe('scripts respect the machine they run on', () => {
  /** Every script and test helper that could stop a process: shell, mjs and TypeScript outside node_modules. */
  function sources(dir: string): string[] {
    const found: string[] = [];
    for (const entry of readdirSync(join(REPO_ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.name === 'node_modules' || entry.name === 'dist') continue;
      if (entry.isDirectory()) found.push(...sources(path));
      else if (/\.(sh|mjs|ts)$/.test(entry.name)) found.push(path);
    }
    return found;
  }

  it('never stops a process by name (pkill, killall): only by the PID it started', () => {
    const offenders = ['scripts', 'test', 'bench', 'packages']
      .flatMap(sources)
      .filter((path) => path !== 'test/static/scripts.test.ts')
      .filter((path) => /\b(pkill|killall)\b/.test(readFileSync(join(REPO_ROOT, path), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('setup.sh disables only a Prometheus service it installed itself, through systemd', () => {
    const text = readFileSync(join(REPO_ROOT, 'scripts/setup.sh'), 'utf8');
    const disable = text.indexOf('systemctl disable --now prometheus');
    expect(disable).toBeGreaterThan(0);
    // The disable sits inside the branch taken only when prometheus is among the packages installed now.
    const guard = text.lastIndexOf("*' prometheus'*)", disable);
    expect(guard).toBeGreaterThan(text.indexOf('apt-get install'));
  });
});
