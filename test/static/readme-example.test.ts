// The README's "Add the sidecars to your own workload" kustomizations are the ones the tests render
// (test/static/fixtures/*), and the settings they show are options the built sidecars accept.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '@agent-sidecars/shared/testing';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import {
  FIXTURE_COMPONENTS_PATH,
  KUBECTL,
  type KubeObject,
  REPO_ROOT,
  render,
} from './rendered-manifests.js';

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

// README excerpts of a fixture's object: each field they show is the object's (a list item by its
// `name`, in the same order), so the excerpt stays true when the fixture changes.
const FRAGMENTS = [{ path: `${FIXTURE}/workloads.yaml`, object: 'StatefulSet/ledger' }] as const;

/** The fenced YAML block after `<!-- KIND: WHAT -->` in the README. */
function readmeBlock(what: string, kind = 'readme-example'): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const marker = `<!-- ${kind}: ${what} -->\n\`\`\`yaml\n`;
  const start = readme.indexOf(marker);
  if (start < 0) throw new Error(`README.md has no example marked ${kind}: ${what}`);
  const body = readme.slice(start + marker.length);
  return body.slice(0, body.indexOf('```'));
}

/** Where PART says what WHOLE does not: maps key by key, lists item by item (by `name` when it has one). */
function differences(part: unknown, whole: unknown, at = ''): string[] {
  if (Array.isArray(part)) {
    if (!Array.isArray(whole)) return [`${at}: not a list there`];
    let last = -1;
    return part.flatMap((item, i) => {
      const name = (item as { name?: unknown } | null)?.name;
      const index = name === undefined ? i : whole.findIndex((w) => (w as { name?: unknown })?.name === name);
      const where = `${at}[${String(name ?? i)}]`;
      if (index < 0 || index >= whole.length) return [`${where}: missing`];
      const order = index < last ? [`${where}: in another order`] : [];
      last = index;
      return [...order, ...differences(item, whole[index], where)];
    });
  }
  if (part !== null && typeof part === 'object') {
    if (whole === null || typeof whole !== 'object') return [`${at}: not a map there`];
    return Object.entries(part).flatMap(([key, value]) =>
      differences(value, (whole as Record<string, unknown>)[key], `${at}.${key}`),
    );
  }
  return part === whole ? [] : [`${at}: ${JSON.stringify(part)}, but ${JSON.stringify(whole)} there`];
}

describe('the README examples', () => {
  it.each(EXAMPLES)('%s is in the README as it is, but for the path of the Component', (path) => {
    const fixture = readFileSync(join(REPO_ROOT, path), 'utf8');
    const withoutHeader = fixture.replace(/^(#.*\n)+/, '');
    expect(readmeBlock(path)).toBe(withoutHeader.replaceAll(FIXTURE_COMPONENTS_PATH, README_COMPONENTS_PATH));
  });

  it.each(FRAGMENTS)('the excerpt of $object in $path says what the fixture has', ({ path, object }) => {
    const objects = parseAllDocuments(readFileSync(join(REPO_ROOT, path), 'utf8')).map(
      (doc) => doc.toJS() as KubeObject,
    );
    const whole = objects.find((o) => `${o.kind}/${o.metadata.name}` === object);
    const part = parse(readmeBlock(`${path} ${object}`, 'readme-fragment')) as unknown;
    expect(differences(part, whole)).toEqual([]);
    expect(differences({ spec: { replicas: 4 } }, whole)).toEqual(['.spec.replicas: 4, but 3 there']);
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
