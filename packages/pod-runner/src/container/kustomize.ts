import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { podFromManifest, type RenderedPod } from './pod-manifest.js';

/** What `kubectl kustomize` made of a kustomization, and the workload of `kind` in it. */
export interface RenderedWorkload {
  /** The kustomization, relative to the repository root. */
  readonly dir: string;
  readonly text: string;
  readonly pod: RenderedPod;
}

/**
 * Renders the kustomizations under `<root>/k8s` with `kubectl kustomize` and returns the first that
 * holds one workload of `kind`, found by what it renders, not by file name. A stdout overlay and the
 * base come first: their log-sidecar prints its records, which is what a local run reads. Folders that
 * do not render alone (kustomize Components) are passed over.
 */
export function renderedWorkload(root: string, kind: string): RenderedWorkload {
  const dirs: string[] = [];
  const walk = (dir: string): void => {
    if (existsSync(join(dir, 'kustomization.yaml'))) dirs.push(relative(root, dir));
    for (const entry of readdirSync(dir, { withFileTypes: true }))
      if (entry.isDirectory()) walk(join(dir, entry.name));
  };
  walk(join(root, 'k8s'));
  const rank = (dir: string) => (/stdout/.test(dir) ? 0 : /base/.test(dir) ? 1 : 2);
  const failures: string[] = [];
  for (const dir of dirs.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))) {
    const run = spawnSync('kubectl', ['kustomize', join(root, dir)], { encoding: 'utf8' });
    if (run.error) throw new Error(`kubectl is needed to render k8s/: ${run.error.message}`);
    if (run.status !== 0) {
      failures.push(`${dir}: ${run.stderr.trim().split('\n')[0]}`);
      continue;
    }
    try {
      return { dir, text: run.stdout, pod: podFromManifest(run.stdout, kind) };
    } catch {
      // no single workload of this kind here
    }
  }
  throw new Error(
    `no kustomization under k8s/ renders a ${kind}${failures.length ? ` (${failures.join('; ')})` : ''}`,
  );
}
