// Each image alone, run exactly as the rendered Deployment runs it (user, read-only root, capabilities
// dropped, no-new-privileges, its args, env and mounted ConfigMap), in a Pod of its own: it answers
// its probes, does its job, logs JSON on stderr (the sidecars), and exits 0 on `docker stop` within
// the grace period.
import { readFileSync } from 'node:fs';
import { waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentClient, ContainerPod, httpGet, type RenderedPod } from '../../packages/pod-runner/src/index.js';
import {
  dockerRun,
  engine,
  helperOf,
  noEngine,
  nonJsonLines,
  pid1Of,
  renderedWorkload,
  tempDir,
} from './kit.js';

const deployment = noEngine ? undefined : renderedWorkload('Deployment');

/** The Deployment's Pod with only the container whose image is `repository` (ours: by image name). */
function alone(repository: string): { pod: RenderedPod; name: string } {
  const pod = deployment!.pod;
  const all = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  const container = all.find((c) => c.image.split(':')[0] === repository);
  if (!container) throw new Error(`${pod.source} runs no ${repository} image`);
  return {
    name: container.name,
    pod: {
      ...pod,
      spec: { ...pod.spec, initContainers: [], containers: [{ ...container, restartPolicy: undefined }] },
    },
  };
}

const pods: ContainerPod[] = [];
afterEach(async () => {
  await Promise.all(pods.splice(0).map((pod) => pod.dispose()));
});

async function start(repository: string, before?: (pod: ContainerPod) => Promise<void>) {
  const { pod: manifest, name } = alone(repository);
  const lines: { stream: string; text: string }[] = [];
  const pod = await ContainerPod.create({
    engine,
    manifest,
    dir: tempDir('asc-image'),
    ...helperOf(deployment!.pod),
    onLine: (_container, stream, text) => lines.push({ stream, text }),
  });
  pods.push(pod);
  await before?.(pod);
  await pod.pod.start();
  const container = pod.pod.container(name);
  const spec = manifest.spec.containers[0]!;
  return { pod, container, spec, lines };
}

/** PID 1's environment, read from the host's /proc: what the process really runs with. */
async function environOf(id: string): Promise<Record<string, string>> {
  const pid = await dockerRun(['inspect', '--format', '{{.State.Pid}}', id]);
  return Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

/** The manifest's node and malloc settings reach PID 1 (they bound its memory; docs/benchmarks.md). */
async function expectProcessTunables(id: string, spec: RenderedPod['spec']['containers'][number]) {
  const environ = await environOf(id);
  const manifest = Object.fromEntries((spec.env ?? []).map((e) => [e.name, e.value]));
  for (const name of ['NODE_OPTIONS', 'MALLOC_ARENA_MAX', 'MALLOC_TRIM_THRESHOLD_']) {
    expect(manifest[name], name).toBeDefined();
    expect(environ[name], name).toBe(manifest[name]);
  }
}

/** `docker stop` with the Pod's grace period: the container must exit 0 by itself, before any SIGKILL. */
async function dockerStop(id: string, graceSeconds: number) {
  await dockerRun(['stop', '--time', String(graceSeconds), id]);
  return Number(await dockerRun(['inspect', '--format', '{{.State.ExitCode}}', id]));
}

function expectHardenedAsTheManifestSays(
  view: Awaited<ReturnType<typeof pid1Of>>,
  spec: RenderedPod['spec']['containers'][number],
  entry: string,
) {
  const security = spec.securityContext!;
  expect(view.uid).toBe(security.runAsUser);
  expect(view.gid).toBe(security.runAsGroup);
  expect(view.cmdline[0]).toBe(entry);
  expect(view.rootReadOnly).toBe(security.readOnlyRootFilesystem === true);
  expect(security.capabilities?.drop).toEqual(['ALL']);
  expect(view.capEff).toBe('0000000000000000');
  expect(view.noNewPrivs).toBe(security.allowPrivilegeEscalation === false);
}

describe.skipIf(noEngine !== undefined)('each image alone, hardened as in the manifest', () => {
  const grace = () => deployment!.pod.spec.terminationGracePeriodSeconds ?? 30;

  it('log-sidecar: Node as PID 1, ships a line written to its emptyDir, JSON on stderr, exits 0 on docker stop', async () => {
    const { pod, container, spec, lines } = await start('agent-sidecars/log-sidecar');
    const view = await pid1Of(container.id);
    expectHardenedAsTheManifestSays(view, spec, '/nodejs/bin/node');
    // The image's ENTRYPOINT runs the bundle, then the manifest's args.
    expect(view.cmdline).toEqual(['/nodejs/bin/node', '/app/dist/main.js', ...spec.args!]);
    await expectProcessTunables(container.id, spec);
    // No shell in the runtime image.
    await expect(dockerRun(['exec', container.id, '/bin/sh', '-c', 'true'])).rejects.toThrow();
    const health = spec.livenessProbe!.httpGet!;
    expect((await httpGet(`${pod.url(health.port)}${health.path}`)).status).toBe(200);

    // Its job: a line the agent would write to the shared volume comes out on stdout as a record.
    const line = JSON.stringify({
      level: 'info',
      request_id: 'image-alone-1',
      path: '/inference',
      status: 200,
    });
    await dockerRun([
      'exec',
      container.id,
      '/nodejs/bin/node',
      '-e',
      `require('node:fs').appendFileSync('/var/log/agent/requests.log', ${JSON.stringify(`${line}\n`)})`,
    ]);
    await container.waitForLine(
      'the record on stdout',
      (text, stream) => stream === 'stdout' && text.includes('image-alone-1'),
      30_000,
    );

    expect(await dockerStop(container.id, grace())).toBe(0);
    await container.exited;
    const stderr = lines.filter((l) => l.stream === 'stderr').map((l) => l.text);
    expect(stderr.length).toBeGreaterThan(0);
    expect(nonJsonLines(stderr)).toEqual([]);
    expect(stderr.some((text) => text.includes('Shutdown complete'))).toBe(true);
  });

  it('metrics-sidecar: scrapes a target in its namespace and serves it on its port, exits 0 on docker stop', async () => {
    let target = '';
    const { pod, container, spec, lines } = await start('agent-sidecars/metrics-sidecar', async (p) => {
      const { helperImage, helperNode } = helperOf(deployment!.pod);
      // The agent's address in the sidecar's config (127.0.0.1:8000), served by a stand-in target.
      target = await p.runInPod([
        ...['--user', '65532:65532', '--read-only', '--cap-drop', 'ALL', '--entrypoint', helperNode],
        helperImage,
        '-e',
        `require('node:http').createServer((q, s) => { s.setHeader('content-type', 'text/plain; version=0.0.4');
         s.end('# TYPE alone_requests_total counter\\nalone_requests_total 42\\n'); })
         .listen(8000, '127.0.0.1', () => console.log('listening'));`,
      ]);
      await waitFor(
        'the stand-in target',
        async () => ((await dockerRun(['logs', target])).includes('listening') ? true : undefined),
        {
          timeoutMs: 20_000,
          intervalMs: 100,
        },
      );
    });
    const view = await pid1Of(container.id);
    expectHardenedAsTheManifestSays(view, spec, '/nodejs/bin/node');
    // The image's ENTRYPOINT runs the bundle with V8 capped at Maglev, then the manifest's args.
    expect(view.cmdline).toEqual(['/nodejs/bin/node', '--max-opt=2', '/app/dist/main.js', ...spec.args!]);
    await expectProcessTunables(container.id, spec);
    const port = spec.ports![0]!.containerPort;
    const body = await waitFor(
      'the target series on the metrics port',
      async () => {
        const { status, body } = await httpGet(`${pod.url(port)}/metrics`);
        return status === 200 && /^alone_requests_total(\{[^}]*\})? 42$/m.test(body) ? body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(body).toMatch(/^metrics_sidecar_target_up\{target="agent"\} 1$/m);

    expect(await dockerStop(container.id, grace())).toBe(0);
    await container.exited;
    const stderr = lines.filter((l) => l.stream === 'stderr').map((l) => l.text);
    expect(nonJsonLines(stderr)).toEqual([]);
    expect(stderr.some((text) => text.includes('Shutdown complete'))).toBe(true);
  });

  it('agent: answers its probe and /inference, writes its JSON request log, exits 0 on docker stop', async () => {
    const { pod, container, spec } = await start('agent-sidecars/agent');
    expectHardenedAsTheManifestSays(await pid1Of(container.id), spec, 'python');
    const port = spec.ports![0]!.containerPort;
    const client = new AgentClient(pod.url(port));
    try {
      expect((await client.inference('image-alone-agent', 'a great day')).status).toBe(200);
    } finally {
      client.close();
    }
    const metrics = await httpGet(`${pod.url(port)}/metrics`);
    expect(metrics.body).toMatch(/^agent_requests_total\{[^}]*path="\/inference"[^}]*\} 1\.0$/m);
    const log = await dockerRun([
      'exec',
      container.id,
      'python',
      '-c',
      "import os; print(open(os.environ['LOG_FILE']).read(), end='')",
    ]);
    const records = log.split('\n').map((line) => JSON.parse(line) as { request_id?: string });
    expect(records.some((record) => record.request_id === 'image-alone-agent')).toBe(true);
    expect(await dockerStop(container.id, grace())).toBe(0);
  });

  it('each sidecar image runs its bundle: /app holds main.js, its map, package.json and yaml only, and main.js imports nothing of /app', async () => {
    for (const repository of ['agent-sidecars/log-sidecar', 'agent-sidecars/metrics-sidecar']) {
      const image = alone(repository).pod.spec.containers[0]!.image;
      const listing = await dockerRun([
        ...['run', '--rm', '--network', 'none', '--entrypoint', '/nodejs/bin/node', image, '-e'],
        `const fs = require('node:fs');
         const code = fs.readFileSync('/app/dist/main.js', 'utf8');
         console.log(JSON.stringify({
           app: fs.readdirSync('/app').sort(), dist: fs.readdirSync('/app/dist').sort(),
           modules: fs.readdirSync('/app/node_modules').sort(),
           relative: code.split('\\n').filter((l) => /^import .* from "\\.{1,2}\\//.test(l)),
           yaml: require('node:module').createRequire('/app/dist/main.js').resolve('yaml'),
         }));`,
      ]);
      expect(JSON.parse(listing)).toEqual({
        app: ['dist', 'healthcheck.mjs', 'node_modules', 'package.json'],
        dist: ['main.js', 'main.js.map'],
        modules: ['yaml'],
        relative: [],
        yaml: expect.stringMatching(/^\/app\/node_modules\/yaml\//),
      });
    }
  });

  it('the log-sidecar image carries /var/log/agent as 1777, so a fresh named volume is writable for every uid; the metrics image has none', async () => {
    const image = (repository: string) => alone(repository).pod.spec.containers[0]!.image;
    const node = (img: string, script: string, mounts: string[] = []) =>
      dockerRun([
        'run',
        '--rm',
        '--network',
        'none',
        ...mounts,
        '--entrypoint',
        '/nodejs/bin/node',
        img,
        '-e',
        script,
      ]);
    const volume = await dockerRun(['volume', 'create']);
    try {
      const mode = await node(
        image('agent-sidecars/log-sidecar'),
        "console.log((require('node:fs').statSync('/var/log/agent').mode & 0o7777).toString(8))",
        ['--mount', `type=volume,src=${volume},dst=/var/log/agent`],
      );
      expect(mode).toBe('1777');
    } finally {
      await dockerRun(['volume', 'rm', volume]);
    }
    expect(
      await node(
        image('agent-sidecars/metrics-sidecar'),
        "console.log(require('node:fs').existsSync('/var/log/agent'))",
      ),
    ).toBe('false');
  });
});
