// What the container tests share: the run's private engine (made by global-setup.ts), the rendered
// manifests of k8s/ (found by what they render, not by file name), and small helpers.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '@agent-sidecars/shared/testing';
import { inject } from 'vitest';
import {
  type DockerEngine,
  docker,
  dockerEngine,
  renderedWorkload as findWorkload,
  type RenderedPod,
  type RenderedWorkload,
} from '../../packages/pod-runner/src/index.js';
import { KUBECTL, REPO_ROOT } from '../static/rendered-manifests.js';

export { REPO_ROOT };

const info = inject('containerEngine');
/**
 * Why the container tests cannot run here (global-setup.ts printed it; without kubectl, which renders
 * k8s/, requireTool prints it, and fails under CI=true), or undefined.
 */
export const noEngine: string | undefined = info.reason ?? requireTool('kubectl', KUBECTL).missing;

export const engine: DockerEngine = dockerEngine({ ...process.env, DOCKER_HOST: info.dockerHost ?? '' });

export function dockerRun(args: readonly string[]): Promise<string> {
  return docker(engine, args);
}

/** The rendered workload of `kind` from k8s/ (see the pod-runner's renderedWorkload). */
export function renderedWorkload(kind: 'Deployment' | 'Job'): RenderedWorkload {
  return findWorkload(REPO_ROOT, kind);
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

/** The first native sidecar's image has Node at /nodejs/bin/node: the Pods' helper runs on it. */
export function helperOf(pod: RenderedPod): { helperImage: string; helperNode: string } {
  const image = pod.spec.initContainers?.[0]?.image;
  if (!image) throw new Error(`${pod.source} has no native sidecar to take a helper image from`);
  return { helperImage: image, helperNode: '/nodejs/bin/node' };
}

/** Every stderr line of a sidecar is one pino JSON object with a level, a time and a message. */
export function nonJsonLines(lines: readonly string[]): string[] {
  return lines.filter((line) => {
    try {
      const value = JSON.parse(line) as { level?: unknown; msg?: unknown; time?: unknown };
      return typeof value.level !== 'string' || typeof value.msg !== 'string' || value.time === undefined;
    } catch {
      return true;
    }
  });
}

export interface ProcessView {
  readonly cmdline: string[];
  readonly uid: number;
  readonly gid: number;
  readonly groups: number[];
  readonly capEff: string;
  readonly noNewPrivs: boolean;
  readonly rootReadOnly: boolean;
}

/**
 * What the kernel says about a container's PID 1 (read from the host's /proc: the private engine is
 * local): not what was asked for, what it runs with.
 */
export async function pid1Of(id: string): Promise<ProcessView> {
  const pid = await docker(engine, ['inspect', '--format', '{{.State.Pid}}', id]);
  const read = (file: string) => readFileSync(`/proc/${pid}/${file}`, 'utf8');
  const status = Object.fromEntries(
    read('status')
      .split('\n')
      .map((line) => line.split(':\t'))
      .filter((pair) => pair.length === 2) as [string, string][],
  );
  const root = read('mountinfo')
    .split('\n')
    .map((line) => line.split(' '))
    .find((fields) => fields[4] === '/');
  const ids = (value = '') => value.trim().split(/\s+/).filter(Boolean).map(Number);
  return {
    cmdline: read('cmdline').split('\0').filter(Boolean),
    uid: ids(status.Uid)[0]!,
    gid: ids(status.Gid)[0]!,
    groups: ids(status.Groups),
    capEff: (status.CapEff ?? '').trim(),
    noNewPrivs: (status.NoNewPrivs ?? '').trim() === '1',
    rootReadOnly: root?.[5]?.split(',').includes('ro') === true,
  };
}
