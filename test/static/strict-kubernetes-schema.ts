// Strict JSON Schemas of the Kubernetes objects the manifests render, per Kubernetes minor version, with
// unknown fields rejected (additionalProperties: false), the way `kubectl apply --validate=strict` does.
//
// The npm registry ships no Kubernetes JSON Schema package: these are generated, at test time, from the
// Kubernetes API types that the registry does ship per version (`kubernetes-types`, itself generated from
// each release's OpenAPI spec) with ts-json-schema-generator, which closes every object type. The
// PodMonitor (a CRD) comes from @kubernetes-models/prometheus-operator the same way.
import { fileURLToPath } from 'node:url';
import { Ajv, type AnySchema, type ErrorObject, type ValidateFunction } from 'ajv';
import { createGenerator } from 'ts-json-schema-generator';
import type { KubeObject } from './rendered-manifests.js';
import { REPO_ROOT } from './rendered-manifests.js';

/** The oldest minor the README supports (native sidecars are on by default from 1.29) and the newest the registry has. */
export const KUBERNETES_VERSIONS = ['1.29', '1.30'] as const;
export type KubernetesVersion = (typeof KUBERNETES_VERSIONS)[number];

const GROUP_FILES = '{apps,batch,core,policy}/v1.d.ts';
const CRD_TYPES = fileURLToPath(new URL('./strict-schema-types.ts', import.meta.url));
// Module resolution that reads package `exports`, which the CRD types' packages need.
const TSCONFIG = fileURLToPath(new URL('./strict-schema.tsconfig.json', import.meta.url));

interface GeneratedSchema {
  definitions?: Record<string, unknown>;
  [key: string]: unknown;
}

function generate(path: string, type = '*', tsconfig?: string): GeneratedSchema {
  return createGenerator({
    path,
    ...(tsconfig ? { tsconfig } : {}),
    type,
    skipTypeCheck: true,
    jsDoc: 'none',
    expose: 'export',
    topRef: false,
    additionalProperties: false,
  }).createSchema(type) as GeneratedSchema;
}

export interface StrictValidator {
  /** The errors of OBJECT, one line each, or [] when valid; throws when no schema knows its kind. */
  errors(object: Pick<KubeObject, 'apiVersion' | 'kind'>): string[];
}

const validators = new Map<KubernetesVersion, StrictValidator>();
let crdDefinitions: Record<string, unknown> | undefined;

/** The CRDs' definitions, the same for every Kubernetes version. */
function crdSchemas(): Record<string, unknown> {
  if (crdDefinitions) return crdDefinitions;
  // One named root type: the generator puts it at the top, its parts in definitions.
  const { $schema: _, definitions, ...podMonitor } = generate(CRD_TYPES, 'PodMonitor', TSCONFIG);
  crdDefinitions = { ...definitions, PodMonitor: podMonitor };
  return crdDefinitions;
}

/** The strict validator of one Kubernetes minor version (generated once per test run, about a second). */
export function strictValidator(version: KubernetesVersion): StrictValidator {
  const cached = validators.get(version);
  if (cached) return cached;
  const api = generate(`${REPO_ROOT}node_modules/kubernetes-types-${version}/${GROUP_FILES}`);
  const crds = { definitions: crdSchemas() };
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addSchema({ $id: 'api', definitions: api.definitions } as AnySchema);
  ajv.addSchema({ $id: 'crds', definitions: crds.definitions } as AnySchema);
  const compiled = new Map<string, ValidateFunction>();
  const validatorOf = (kind: string): ValidateFunction => {
    let validate = compiled.get(kind);
    if (validate) return validate;
    const id = api.definitions?.[kind]
      ? `api#/definitions/${kind}`
      : crds.definitions?.[kind]
        ? `crds#/definitions/${kind}`
        : undefined;
    validate = id === undefined ? undefined : ajv.getSchema(id);
    if (!validate) throw new Error(`no Kubernetes ${version} schema for kind ${kind}`);
    compiled.set(kind, validate);
    return validate;
  };
  const validator: StrictValidator = {
    errors(object) {
      const validate = validatorOf(object.kind);
      if (validate(object)) return [];
      return (validate.errors ?? []).map(describe);
    },
  };
  validators.set(version, validator);
  return validator;
}

function describe(error: ErrorObject): string {
  const where = error.instancePath || '/';
  if (error.keyword === 'additionalProperties')
    return `${where}: unknown field "${(error.params as { additionalProperty: string }).additionalProperty}"`;
  return `${where}: ${error.message ?? error.keyword}`;
}
