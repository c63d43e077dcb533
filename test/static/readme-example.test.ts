// The README's "Add the sidecars to your own workload" kustomization is the one the tests render
// (test/static/fixtures/user-workloads), and the settings it shows are options the built sidecars accept.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '@agent-sidecars/shared/testing';
import { describe, expect, it } from 'vitest';
import { KUBECTL, REPO_ROOT, render } from './rendered-manifests.js';

const FIXTURE = 'test/static/fixtures/user-workloads';
const README_PATH = '../agent-sidecars/k8s/components/agent-sidecars';
const FIXTURE_PATH = '../../../../k8s/components/agent-sidecars';

const skipReason = requireTool('kubectl', KUBECTL).missing;

/** The fenced YAML block after `<!-- readme-example: PATH -->` in the README. */
function readmeBlock(path: string): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const marker = `<!-- readme-example: ${path} -->\n\`\`\`yaml\n`;
  const start = readme.indexOf(marker);
  if (start < 0) throw new Error(`README.md has no example marked ${path}`);
  const body = readme.slice(start + marker.length);
  return body.slice(0, body.indexOf('```'));
}

describe('the README example', () => {
  it('is the fixture kustomization, but for the path of the Component', () => {
    const fixture = readFileSync(join(REPO_ROOT, FIXTURE, 'kustomization.yaml'), 'utf8');
    const withoutHeader = fixture.replace(/^(#.*\n)+/, '');
    expect(withoutHeader).toContain(FIXTURE_PATH);
    expect(readmeBlock(`${FIXTURE}/kustomization.yaml`)).toBe(
      withoutHeader.replace(FIXTURE_PATH, README_PATH),
    );
  });

  const binaries = {
    'log-sidecar': join(REPO_ROOT, 'packages/log-sidecar/dist/main.js'),
    'metrics-sidecar': join(REPO_ROOT, 'packages/metrics-sidecar/dist/main.js'),
  } as const;

  // `validate` loads the config as a start would (exit 2 naming the option on a bad one) and exits 0.
  it
    .skipIf(skipReason !== undefined || !existsSync(binaries['log-sidecar']))
    .each(Object.keys(binaries) as (keyof typeof binaries)[])(
    '%s accepts the settings of its rendered env ConfigMap with its rendered config file',
    (sidecar) => {
      const objects = render(FIXTURE);
      const env = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith(`${sidecar}-env-`))
        ?.data as Record<string, string> | undefined;
      expect(Object.keys(env ?? {}).length, `${sidecar}-env`).toBeGreaterThan(0);
      const config = objects.find(
        (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith(`${sidecar}-config-`),
      )?.data as Record<string, string>;
      const dir = mkdtempSync(join(tmpdir(), 'readme-example-'));
      try {
        writeFileSync(join(dir, 'config.yaml'), config['config.yaml'] ?? '');
        const run = spawnSync(
          process.execPath,
          [binaries[sidecar], 'validate', '--config', join(dir, 'config.yaml')],
          {
            env: { PATH: process.env.PATH, ...env },
            encoding: 'utf8',
          },
        );
        expect(run.status, run.stderr).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
