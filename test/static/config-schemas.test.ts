// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} references are the subject here, not template slips.
// The JSON Schemas in schemas/ are generated from the sidecars' option tables: the committed copy must be
// what the tables give today, and every sidecar config file in the repo must pass its schema.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { logSidecarConfigSchema } from '../../packages/log-sidecar/src/config.js';
import { metricsSidecarConfigSchema } from '../../packages/metrics-sidecar/src/config.js';
import { kustomizationDirs, REPO_ROOT } from './rendered-manifests.js';

const SCHEMAS = {
  'log-sidecar': { file: 'schemas/log-sidecar.config.schema.json', generate: logSidecarConfigSchema },
  'metrics-sidecar': {
    file: 'schemas/metrics-sidecar.config.schema.json',
    generate: metricsSidecarConfigSchema,
  },
} as const;
type Sidecar = keyof typeof SCHEMAS;

/** Every sidecar config in the repo: the files of k8s configMapGenerators and the compose mounts. */
function exampleConfigs(): [Sidecar, string][] {
  const found: [Sidecar, string][] = [];
  const sidecarOf = (name: string): Sidecar | undefined =>
    name.startsWith('log-sidecar')
      ? 'log-sidecar'
      : name.startsWith('metrics-sidecar')
        ? 'metrics-sidecar'
        : undefined;
  for (const dir of kustomizationDirs()) {
    const kustomization = parse(readFileSync(join(REPO_ROOT, dir, 'kustomization.yaml'), 'utf8')) as {
      configMapGenerator?: { name: string; files?: string[] }[];
    };
    for (const generator of kustomization.configMapGenerator ?? []) {
      const sidecar = sidecarOf(generator.name);
      if (!sidecar) continue;
      for (const entry of generator.files ?? []) {
        const path = entry.includes('=') ? entry.slice(entry.indexOf('=') + 1) : entry;
        found.push([sidecar, relative(REPO_ROOT, join(REPO_ROOT, dir, path))]);
      }
    }
  }
  const compose = join(REPO_ROOT, 'images/compose');
  for (const name of readdirSync(compose)) {
    const sidecar = sidecarOf(name);
    if (sidecar && /\.ya?ml$/.test(name)) found.push([sidecar, relative(REPO_ROOT, join(compose, name))]);
  }
  return found;
}

function validatorFor(sidecar: Sidecar) {
  const ajv = new Ajv({ allErrors: true });
  // Bounds of durations and sizes as written: annotations (the loader enforces them).
  ajv.addKeyword('x-minimum');
  ajv.addKeyword('x-maximum');
  return ajv.compile(JSON.parse(readFileSync(join(REPO_ROOT, SCHEMAS[sidecar].file), 'utf8')));
}

describe('config file JSON Schemas', () => {
  it.each(Object.keys(SCHEMAS) as Sidecar[])('the committed %s schema is the generated one', (sidecar) => {
    const committed = readFileSync(join(REPO_ROOT, SCHEMAS[sidecar].file), 'utf8');
    expect(committed, 'run `pnpm run schemas` and commit the result').toBe(
      `${JSON.stringify(SCHEMAS[sidecar].generate(), null, 2)}\n`,
    );
  });

  const examples = exampleConfigs();
  it('finds the example configs of both sidecars', () => {
    expect(examples.map(([sidecar]) => sidecar)).toEqual(
      expect.arrayContaining(['log-sidecar', 'metrics-sidecar']),
    );
    // The two Components' configs, the loki overlay's and the two compose mounts.
    expect(examples.length).toBeGreaterThanOrEqual(5);
  });

  it.each(examples)('%s accepts %s', (sidecar, path) => {
    const validate = validatorFor(sidecar);
    const ok = validate(parse(readFileSync(join(REPO_ROOT, path), 'utf8')));
    expect(validate.errors ?? [], `${path} in ${dirname(path)}`).toEqual([]);
    expect(ok).toBe(true);
  });

  it.each([
    ['log-sidecar', { path: 5 }],
    ['log-sidecar', { path: 'x', shutdownTimeout: '25 seconds' }],
    ['log-sidecar', { path: 'x', batchMaxRecords: 0 }],
    ['log-sidecar', { path: 'x', pathz: 'typo' }],
    ['log-sidecar', { path: 'x', format: 'xml' }],
    ['log-sidecar', { path: 'x', sinks: [{ type: 'http', urll: 'http://typo/' }] }],
    ['log-sidecar', { path: 'x', sinks: [{ type: 'kafka' }] }],
    ['log-sidecar', { path: 'x', sinks: [{ type: 'http', url: 'http://h/', gzip: 'maybe' }] }],
    ['metrics-sidecar', { interval: 15 }],
    ['metrics-sidecar', { sampleLimit: 20_000_000 }],
    ['metrics-sidecar', { target: 'ftp://x/metrics' }],
  ] as [Sidecar, unknown][])('%s rejects %j', (sidecar, document) => {
    expect(validatorFor(sidecar)(document)).toBe(false);
  });

  it('accepts a templated multi-sink list', () => {
    expect(
      validatorFor('log-sidecar')({
        path: '/var/log/agent/*.log',
        sinks: [
          { type: 'stdout' },
          { type: 'http', name: 'loki', url: '${LOKI_URL}', format: 'loki', headers: { 'X-Team': 'search' } },
          {
            type: 'http',
            format: 'otlp',
            headerFiles: ['DD-API-KEY: /run/secrets/dd'],
            requestTimeout: '30s',
          },
        ],
      }),
    ).toBe(true);
  });

  it('accepts ${VAR} references wherever a value goes', () => {
    expect(
      validatorFor('log-sidecar')({
        path: '${LOG_GLOB}',
        batchMaxRecords: '${BATCH:-1000}',
        sinkGzip: '${GZIP}',
      }),
    ).toBe(true);
  });
});
