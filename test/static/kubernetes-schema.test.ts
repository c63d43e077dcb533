// Every rendered object is checked against the Kubernetes OpenAPI schema by kubernetes-models, whose
// validators are generated from that schema (Kubernetes >= 1.30: they know initContainers[].restartPolicy
// and the sidecar lifecycle fields) and run offline. The schema sets no additionalProperties, so an
// unknown field passes here; test/kind/run.sh applies with --validate=strict, which rejects it.
import { requireTool } from '@agent-sidecars/shared/testing';
import { describe, expect, it } from 'vitest';
import { KUBECTL, type KubeObject, kustomizationDirs, render } from './rendered-manifests.js';

const skipReason = requireTool('kubectl', KUBECTL).missing;

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;

/** The kubernetes-models module of an apiVersion: "v1" -> kubernetes-models/v1, "apps/v1" -> .../apps/v1. */
async function modelFor(object: Pick<KubeObject, 'apiVersion' | 'kind'>): Promise<ModelClass> {
  let module: Record<string, unknown>;
  try {
    module = (await import(`kubernetes-models/${object.apiVersion}`)) as Record<string, unknown>;
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

describe.skipIf(skipReason !== undefined)('rendered manifests against the Kubernetes OpenAPI schema', () => {
  const dirs = skipReason ? [] : kustomizationDirs();

  it('finds the base, both overlays and the Job', () => {
    expect(dirs).toEqual(['k8s/base', 'k8s/job', 'k8s/overlays/loki', 'k8s/overlays/stdout']);
  });

  it.each(dirs)('%s renders and every object is valid', async (dir) => {
    const objects = render(dir);
    expect(objects.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const object of objects) {
      const errors = await schemaErrors(object);
      if (errors) problems.push(`${object.kind}/${object.metadata.name}: ${errors}`);
    }
    expect(problems).toEqual([]);
  });

  // The validators must be live, or the checks above would pass anything.
  it('rejects a wrong type in initContainers[].restartPolicy and a container without a name', async () => {
    const [deployment] = render('k8s/base').filter((o) => o.kind === 'Deployment');
    const broken = structuredClone(deployment!) as KubeObject & {
      spec: {
        template: {
          spec: { initContainers: Record<string, unknown>[]; containers: Record<string, unknown>[] };
        };
      };
    };
    broken.spec.template.spec.initContainers[0]!.restartPolicy = 42;
    expect(await schemaErrors(broken)).toMatch(/initContainers\/0\/restartPolicy must be string/);

    const nameless = structuredClone(deployment!) as typeof broken;
    delete nameless.spec.template.spec.containers[0]!.name;
    expect(await schemaErrors(nameless)).toMatch(/containers\/0 must have required property '?name'?/);
  });

  it('names an apiVersion it has no schema for', async () => {
    await expect(modelFor({ apiVersion: 'example.com/v9', kind: 'Widget' })).rejects.toThrow(
      /no schemas for apiVersion example.com\/v9/,
    );
  });
});
