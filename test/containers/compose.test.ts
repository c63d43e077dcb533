// The compose demo for real: `docker-compose up` of docker-compose.yaml in the private engine, with the
// Pod's namespace loopback-only (AGENT_SIDECARS_POD_NETWORK=none; no network is created), traffic from
// a helper container inside that namespace, every request line at the receiver (Loki, or its stand-in),
// the agent's series on :9090 and in Prometheus, and `stop` ending the agent first and the log-sidecar
// last, with the last lines still shipped.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@agent-sidecars/shared/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dockerRun, engine, noEngine, REPO_ROOT } from './kit.js';

interface ComposeFile {
  services: Record<string, { image?: string; network_mode?: string }>;
}
const composeFile = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yaml'), 'utf8')) as ComposeFile;
const project = `asc${randomBytes(3).toString('hex')}`;
const composeEnv = { ...engine.env, AGENT_SIDECARS_POD_NETWORK: 'none', COMPOSE_PROJECT_NAME: project };

/** docker-compose 1.29 (Debian's) or, where only v2 is installed, `docker compose`. */
function compose(args: readonly string[]): string {
  const v1 = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
  const [command, prefix] = v1 ? ['docker-compose', []] : [engine.cli, ['compose']];
  const run = spawnSync(
    command,
    [...prefix, '--project-directory', REPO_ROOT, '-f', 'docker-compose.yaml', ...args],
    {
      cwd: REPO_ROOT,
      env: composeEnv,
      encoding: 'utf8',
      timeout: 300_000,
    },
  );
  if (run.status !== 0) throw new Error(`compose ${args.join(' ')} failed: ${run.stderr}${run.stdout}`);
  return run.stdout.trim();
}

const ids = new Map<string, string>();
/** The container of a service (a stop and start keeps it). */
function idOf(service: string): string {
  let id = ids.get(service);
  if (!id) {
    id = compose(['ps', '--quiet', service]);
    if (!id) throw new Error(`compose runs no ${service} container`);
    ids.set(service, id);
  }
  return id;
}

/** Runs a Node script in a helper container that joins the Pod's namespace; resolves with its stdout. */
function inPod(script: string): Promise<string> {
  const image = composeFile.services['log-sidecar']!.image!;
  return dockerRun([
    'run',
    '--rm',
    ...['--network', `container:${idOf('pod')}`],
    ...['--user', '65532:65532', '--read-only', '--cap-drop', 'ALL', '--entrypoint', '/nodejs/bin/node'],
    image,
    '--input-type=module',
    '-e',
    script,
  ]);
}

/** POSTs /inference with each id from inside the Pod; resolves with the statuses. */
async function traffic(ids: readonly string[]): Promise<number[]> {
  const out = await inPod(`
    const statuses = [];
    for (const id of ${JSON.stringify(ids)}) {
      const res = await fetch('http://127.0.0.1:8000/inference', { method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': id }, body: '{"input":"a great day"}' });
      statuses.push(res.status);
    }
    console.log(JSON.stringify(statuses));`);
  return JSON.parse(out) as number[];
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const out = await inPod(`
    const res = await fetch(${JSON.stringify(url)});
    console.log(JSON.stringify({ status: res.status, body: await res.text() }));`);
  return JSON.parse(out) as { status: number; body: string };
}

/** The request ids the receiver holds, by Loki's own query API. */
async function receivedIds(): Promise<Set<string>> {
  const query = new URLSearchParams({ query: '{pod="agent-compose"}', limit: '5000', direction: 'forward' });
  const { status, body } = await get(`http://127.0.0.1:3100/loki/api/v1/query_range?${query}`);
  if (status !== 200) throw new Error(`query_range answered ${status}: ${body}`);
  const result = (JSON.parse(body) as { data: { result: { values: [string, string][] }[] } }).data.result;
  const ids = new Set<string>();
  for (const stream of result)
    for (const [, line] of stream.values) {
      const match = /"request_id": ?"([^"]+)"/.exec(line);
      if (match) ids.add(match[1]!);
    }
  return ids;
}

describe.skipIf(noEngine !== undefined)('docker-compose.yaml in the private engine', () => {
  afterAll(() => {
    if (noEngine === undefined) compose(['down', '--volumes', '--timeout', '30']);
  });

  it('up: ships every request line to the receiver, serves the agent on :9090 to Prometheus; stop ends the agent first and the log-sidecar last', async () => {
    const networksBefore = await dockerRun(['network', 'ls', '--quiet']);
    // The images are built by scripts/container-env.sh; up waits for each healthy dependency.
    compose(['up', '--detach', '--no-build']);
    expect(await dockerRun(['network', 'ls', '--quiet'])).toBe(networksBefore);

    const ids = Array.from({ length: 20 }, (_, n) => `compose-${project}-${n + 1}`);
    expect(await traffic(ids)).toEqual(ids.map(() => 200));
    await waitFor(
      'every request line at the receiver',
      async () => {
        const got = await receivedIds();
        return ids.every((id) => got.has(id)) ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );

    await waitFor(
      "the agent's series on the metrics-sidecar's :9090",
      async () => {
        const { body } = await get('http://127.0.0.1:9090/metrics');
        return /^agent_requests_total\{[^}]*path="\/inference"[^}]*status="200"[^}]*\} 20(\.0)?$/m.test(body)
          ? true
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    await waitFor(
      'Prometheus to have scraped the agent through :9090',
      async () => {
        const query = new URLSearchParams({ query: 'agent_requests_total{path="/inference",status="200"}' });
        const { body } = await get(`http://127.0.0.1:19090/api/v1/query?${query}`);
        const result = (JSON.parse(body) as { data?: { result?: { value: [number, string] }[] } }).data
          ?.result;
        return result?.some((sample) => Number(sample.value[1]) >= 20) ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 2_000 },
    );

    // A last burst right before stop: the log-sidecar, stopped after the agent and the
    // metrics-sidecar (and before the receiver), must still ship it.
    const last = Array.from({ length: 10 }, (_, n) => `compose-${project}-last-${n + 1}`);
    expect(await traffic(last)).toEqual(last.map(() => 200));
    const services = ['agent', 'metrics-sidecar', 'log-sidecar', 'loki'] as const;
    const containers = Object.fromEntries(services.map((service) => [service, idOf(service)]));
    compose(['stop']);
    const state = async (service: (typeof services)[number]) => {
      const [code, finished] = (
        await dockerRun([
          'inspect',
          '--format',
          '{{.State.ExitCode}} {{.State.FinishedAt}}',
          containers[service]!,
        ])
      ).split(' ');
      return { code: Number(code), finished: Date.parse(finished!) };
    };
    const states = await Promise.all(services.map(state));
    for (let n = 1; n < services.length; n += 1)
      expect(states[n]!.finished, `${services[n]} stopped after ${services[n - 1]}`).toBeGreaterThan(
        states[n - 1]!.finished,
      );
    for (const [n, service] of ['agent', 'metrics-sidecar', 'log-sidecar'].entries())
      expect(states[n]!.code, `${service} exit code`).toBe(0);

    // The receiver keeps what it took (Loki's storage; the stand-in's file under /loki): start the
    // namespace and the receiver again and ask it.
    compose(['start', 'pod', 'loki']);
    const got = await waitFor('the receiver to answer again', () => receivedIds(), {
      timeoutMs: 60_000,
      intervalMs: 1_000,
    });
    expect(last.filter((id) => !got.has(id))).toEqual([]);
  });
});
