// Every rendered object -- the example, its overlays, the Job, and the Components applied to the user
// workload fixtures -- is checked against the Kubernetes OpenAPI schema twice:
// - strictly, with unknown fields rejected, for the oldest and newest Kubernetes minor versions there
//   are schemas of (strict-kubernetes-schema.ts), so a misspelled field fails here and not in a cluster;
// - with kubernetes-models, whose validators come from a newer (1.33-era) schema and check enums and
//   required fields, but let unknown fields through.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '@agent-sidecars/shared/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { buildableDirs, KUBECTL, type KubeObject, render, renderEditedCopy } from './rendered-manifests.js';
import { KUBERNETES_VERSIONS, strictValidator } from './strict-kubernetes-schema.js';

const skipReason = requireTool('kubectl', KUBECTL).missing;

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;

// CRDs are not in kubernetes-models itself.
const CRD_MODULES: Record<string, string> = {
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
};

/** The kubernetes-models module of an apiVersion: "v1" -> kubernetes-models/v1, "apps/v1" -> .../apps/v1. */
async function modelFor(object: Pick<KubeObject, 'apiVersion' | 'kind'>): Promise<ModelClass> {
  let module: Record<string, unknown>;
  try {
    module = (await import(
      CRD_MODULES[object.apiVersion] ?? `kubernetes-models/${object.apiVersion}`
    )) as Record<string, unknown>;
  } catch {
    throw new Error(`kubernetes-models has no schemas for apiVersion ${object.apiVersion}`);
  }
  const model = module[object.kind];
  if (typeof model !== 'function')
    throw new Error(`kubernetes-models has no ${object.kind} in ${object.apiVersion}`);
  return model as ModelClass;
}

async function schemaErrors(object: KubeObject): Promise<string | undefined> {
  const Model = await modelFor(object);
  try {
    new Model(object).validate();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

type Broken = KubeObject & {
  spec: {
    template: { spec: { initContainers: Record<string, unknown>[]; containers: Record<string, unknown>[] } };
  };
};
const baseDeployment = (): Broken =>
  structuredClone(render('k8s/base').find((o) => o.kind === 'Deployment')!) as Broken;

describe.skipIf(skipReason !== undefined)('rendered manifests against the Kubernetes OpenAPI schema', () => {
  const dirs = skipReason ? [] : buildableDirs();

  it('finds the base, the overlays, the Job and the user workload fixtures', () => {
    expect(dirs).toEqual([
      'k8s/base',
      'k8s/job',
      'k8s/overlays/loki',
      'k8s/overlays/production',
      'k8s/overlays/stdout',
      'test/static/fixtures/by-name',
      'test/static/fixtures/user-workloads',
    ]);
  });

  describe.each(KUBERNETES_VERSIONS)('Kubernetes %s, unknown fields rejected', (version) => {
    it.each(dirs)('%s: every object is valid', (dir) => {
      const objects = render(dir);
      expect(objects.length).toBeGreaterThan(0);
      const problems = objects.flatMap((object) =>
        strictValidator(version)
          .errors(object)
          .map((error) => `${object.kind}/${object.metadata.name} ${error}`),
      );
      expect(problems).toEqual([]);
    });

    it('rejects a misspelled field, naming it and where it is', () => {
      const broken = baseDeployment();
      const sidecar = broken.spec.template.spec.initContainers[0]!;
      sidecar.volumeMount = sidecar.volumeMounts;
      delete sidecar.volumeMounts;
      (broken.spec as Record<string, unknown>).replica = 2;
      expect(strictValidator(version).errors(broken)).toEqual([
        '/spec: unknown field "replica"',
        '/spec/template/spec/initContainers/0: unknown field "volumeMount"',
      ]);
    });

    it('rejects a misspelled field of the PodMonitor', () => {
      const monitor = structuredClone(
        render('k8s/overlays/production').find((o) => o.kind === 'PodMonitor')!,
      );
      const spec = monitor.spec as Record<string, unknown>;
      spec.podMetricEndpoints = spec.podMetricsEndpoints;
      delete spec.podMetricsEndpoints;
      expect(strictValidator(version).errors(monitor)).toContain('/spec: unknown field "podMetricEndpoints"');
    });

    it('names a kind it has no schema for', () => {
      expect(() => strictValidator(version).errors({ apiVersion: 'example.com/v9', kind: 'Widget' })).toThrow(
        `no Kubernetes ${version} schema for kind Widget`,
      );
    });
  });

  it('knows what each version has: securityContext.appArmorProfile is new in 1.30', () => {
    const withAppArmor = baseDeployment();
    (
      withAppArmor.spec.template.spec.containers[0]!.securityContext as Record<string, unknown>
    ).appArmorProfile = {
      type: 'RuntimeDefault',
    };
    expect(strictValidator('1.29').errors(withAppArmor)).toEqual([
      '/spec/template/spec/containers/0/securityContext: unknown field "appArmorProfile"',
    ]);
    expect(strictValidator('1.30').errors(withAppArmor)).toEqual([]);
  });

  describe('a misspelled field in the Component itself', () => {
    const work = mkdtempSync(join(tmpdir(), 'k8s-component-typo-'));
    afterAll(() => rmSync(work, { recursive: true, force: true }));

    it('reaches every workload it patches and fails the strict check there', () => {
      const objects = renderEditedCopy(work, 'test/static/fixtures/user-workloads', {
        file: 'k8s/components/log-sidecar/inject/pod-template.yaml',
        change: (text) => text.replace('readinessProbe:', 'readynessProbe:'),
      });
      const workloads = objects.filter((o) =>
        ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'].includes(o.kind),
      );
      const failing = workloads
        .filter((o) =>
          strictValidator('1.29')
            .errors(o)
            .some((e) => e.endsWith('unknown field "readynessProbe"')),
        )
        .map((o) => `${o.kind}/${o.metadata.name}`)
        .sort();
      expect(failing).toEqual([
        'CronJob/nightly-export',
        'DaemonSet/node-probe',
        'Deployment/shop-api',
        'Job/report',
        'StatefulSet/ledger',
      ]);
    });
  });

  describe('with kubernetes-models (a newer schema, unknown fields allowed)', () => {
    it.each(dirs)('%s: every object is valid', async (dir) => {
      const problems: string[] = [];
      for (const object of render(dir)) {
        const errors = await schemaErrors(object);
        if (errors) problems.push(`${object.kind}/${object.metadata.name}: ${errors}`);
      }
      expect(problems).toEqual([]);
    });

    // The validators must be live, or the checks above would pass anything.
    it('rejects a wrong type in initContainers[].restartPolicy and a container without a name', async () => {
      const broken = baseDeployment();
      broken.spec.template.spec.initContainers[0]!.restartPolicy = 42;
      expect(await schemaErrors(broken)).toMatch(/initContainers\/0\/restartPolicy must be string/);

      const nameless = baseDeployment();
      delete nameless.spec.template.spec.containers[0]!.name;
      expect(await schemaErrors(nameless)).toMatch(/containers\/0 must have required property '?name'?/);
    });

    it('names an apiVersion it has no schema for', async () => {
      await expect(modelFor({ apiVersion: 'example.com/v9', kind: 'Widget' })).rejects.toThrow(
        /no schemas for apiVersion example.com\/v9/,
      );
    });
  });
});
