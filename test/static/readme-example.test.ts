// The README's "Add the sidecars to your own workload" kustomizations are the ones the tests render
// (test/static/fixtures/*), and the settings they show are options the built sidecars accept.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '@agent-sidecars/shared/testing';
import { describe, expect, it } from 'vitest';
import { FIXTURE_COMPONENTS_PATH, KUBECTL, REPO_ROOT, render } from './rendered-manifests.js';

const FIXTURE = 'test/static/fixtures/user-workloads';
// Where the README has the user keep a checkout of this repository, beside their own kustomization.
const README_COMPONENTS_PATH = '../agent-sidecars/k8s/components/';

// Each README example is a whole file of a fixture, comments at its top aside.
const EXAMPLES = [
  `${FIXTURE}/kustomization.yaml`,
  'test/static/fixtures/by-name/kustomization.yaml',
  'test/static/fixtures/by-name/select/kustomization.yaml',
] as const;

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

describe('the README examples', () => {
  it.each(EXAMPLES)('%s is in the README as it is, but for the path of the Component', (path) => {
    const fixture = readFileSync(join(REPO_ROOT, path), 'utf8');
    const withoutHeader = fixture.replace(/^(#.*\n)+/, '');
    expect(readmeBlock(path)).toBe(withoutHeader.replaceAll(FIXTURE_COMPONENTS_PATH, README_COMPONENTS_PATH));
  });

  it.each(EXAMPLES.filter((path) => !path.includes('/select/')))(
    '%s uses the Component by its path in a checkout beside the kustomization',
    (path) => {
      expect(readFileSync(join(REPO_ROOT, path), 'utf8')).toContain(
        `${FIXTURE_COMPONENTS_PATH}agent-sidecars`,
      );
    },
  );

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
