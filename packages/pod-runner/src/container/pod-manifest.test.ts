import { describe, expect, it } from 'vitest';
import { cpuQuantity, quantityBytes } from './container-pod.js';
import { configFileOf, nativeSidecars, podFromManifest } from './pod-manifest.js';

const MANIFEST = `
apiVersion: v1
kind: ConfigMap
metadata: { name: sidecar-config-abc }
data:
  config.yaml: |
    interval: 15s
---
apiVersion: v1
kind: Secret
metadata: { name: token }
data: { token: c2VjcmV0 }
stringData: { extra: plain }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: agent, namespace: prod }
spec:
  template:
    spec:
      initContainers:
        - name: metrics
          image: example/metrics:1
          restartPolicy: Always
          args: [--config, /etc/metrics/config.yaml]
          volumeMounts: [{ name: config, mountPath: /etc/metrics }]
      containers:
        - { name: app, image: example/app:1 }
      volumes:
        - { name: config, configMap: { name: sidecar-config-abc } }
`;

describe('podFromManifest', () => {
  it('reads the one workload, its ConfigMaps and its Secrets (decoded)', () => {
    const pod = podFromManifest(MANIFEST);
    expect(pod.source).toBe('Deployment/agent');
    expect(pod.namespace).toBe('prod');
    expect(pod.spec.containers.map((c) => c.name)).toEqual(['app']);
    expect(pod.configMaps.get('sidecar-config-abc')?.['config.yaml']).toBe('interval: 15s\n');
    expect(pod.secrets.get('token')).toEqual({ token: 'secret', extra: 'plain' });
  });

  it('names the workloads it found when it cannot pick one', () => {
    const job =
      'apiVersion: batch/v1\nkind: Job\nmetadata: { name: batch }\nspec: { template: { spec: { containers: [] } } }\n';
    expect(() => podFromManifest(`${MANIFEST}---\n${job}`)).toThrow(
      'exactly one workload with a Pod template; it has Deployment/agent, Job/batch',
    );
    expect(podFromManifest(`${MANIFEST}---\n${job}`, 'Job').source).toBe('Job/batch');
    expect(() => podFromManifest('kind: ConfigMap\nmetadata: { name: x }\n')).toThrow('it has none');
  });

  it('reads the config file a container names with --config from the ConfigMap mounted there', () => {
    const pod = podFromManifest(MANIFEST);
    expect(configFileOf(pod, pod.spec.initContainers![0]!)).toEqual({ interval: '15s' });
    expect(configFileOf(pod, pod.spec.containers[0]!)).toEqual({});
  });
});

describe('nativeSidecars', () => {
  it('takes init containers with restartPolicy Always and refuses the ones that run to completion', () => {
    const pod = podFromManifest(MANIFEST);
    expect(nativeSidecars(pod.spec).map((c) => c.name)).toEqual(['metrics']);
    const withInit = {
      ...pod.spec,
      initContainers: [...pod.spec.initContainers!, { name: 'migrate', image: 'x' }],
    };
    expect(() => nativeSidecars(withInit)).toThrow(
      'init containers that run to completion are not supported',
    );
  });
});

describe('Kubernetes quantities', () => {
  it('reads memory and CPU the way the API server does', () => {
    expect(quantityBytes('192Mi')).toBe(192 * 2 ** 20);
    expect(quantityBytes('1G')).toBe(1e9);
    expect(quantityBytes('134217728')).toBe(134217728);
    expect(cpuQuantity('500m')).toBe(0.5);
    expect(cpuQuantity('1')).toBe(1);
    expect(cpuQuantity(2)).toBe(2);
    expect(() => quantityBytes('lots', 'limits.memory')).toThrow(
      'limits.memory: "lots" is not a memory quantity',
    );
    expect(() => cpuQuantity('fast')).toThrow('is not a CPU quantity');
  });
});
