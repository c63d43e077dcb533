import { fileURLToPath } from 'node:url';
import { freePort } from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type ContainerSpec, Pod, type PodEvent } from './pod.js';

const FAKE = fileURLToPath(new URL('../test/fixtures/fake-container.mjs', import.meta.url));
const pods: Pod[] = [];
afterEach(async () => {
  for (const pod of pods.splice(0)) {
    pod.kill();
    await pod.exited();
  }
});

async function container(
  name: string,
  role: 'sidecar' | 'app',
  env: Record<string, string> = {},
): Promise<ContainerSpec> {
  const port = await freePort();
  return {
    name,
    role,
    command: process.execPath,
    args: [FAKE],
    env: { PATH: process.env.PATH, NAME: name, PORT: String(port), ...env },
    startupProbe: `http://127.0.0.1:${port}/`,
  };
}

function pod(sidecars: ContainerSpec[], app: ContainerSpec, terminationGracePeriodMs = 10_000): Pod {
  const created = new Pod({ sidecars, app, terminationGracePeriodMs });
  pods.push(created);
  return created;
}

function when(events: readonly PodEvent[], container: string, kind: PodEvent['kind']): number {
  const event = events.find((e) => e.container === container && e.kind === kind);
  if (!event) throw new Error(`no ${kind} event for ${container}`);
  return event.at;
}

describe('Pod', () => {
  it('starts each container only after the previous one passed its startup probe, the app last', async () => {
    const first = await container('first', 'sidecar', { READY_DELAY_MS: '400' });
    const second = await container('second', 'sidecar', { READY_DELAY_MS: '200' });
    const app = await container('app', 'app');
    const p = pod([first, second], app);

    await p.start();

    expect(p.events.filter((e) => e.kind === 'started').map((e) => e.container)).toEqual([
      'first',
      'second',
      'app',
    ]);
    expect(when(p.events, 'second', 'started')).toBeGreaterThanOrEqual(
      when(p.events, 'first', 'probe passed'),
    );
    expect(when(p.events, 'app', 'started')).toBeGreaterThanOrEqual(when(p.events, 'second', 'probe passed'));
    // The first sidecar's probe failed for a while (503) and the runner kept polling.
    expect(
      when(p.events, 'first', 'probe passed') - when(p.events, 'first', 'started'),
    ).toBeGreaterThanOrEqual(300);
  });

  it('terminates the app first and waits for it, then the sidecars one at a time in reverse order', async () => {
    const p = pod(
      [
        await container('first', 'sidecar', { TERM_DELAY_MS: '100' }),
        await container('second', 'sidecar', { TERM_DELAY_MS: '100' }),
      ],
      await container('app', 'app', { TERM_DELAY_MS: '300' }),
    );
    await p.start();

    const report = await p.terminate();

    expect(report.containers.map((c) => [c.name, c.exit.code, c.killed, c.alreadyExited])).toEqual([
      ['app', 0, false, false],
      ['second', 0, false, false],
      ['first', 0, false, false],
    ]);
    const signalled = p.events.filter((e) => e.kind === 'signalled').map((e) => e.container);
    expect(signalled).toEqual(['app', 'second', 'first']);
    // Each one is signalled only after the previous one has exited.
    expect(when(p.events, 'second', 'signalled')).toBeGreaterThanOrEqual(report.containers[0]!.exit.at);
    expect(when(p.events, 'first', 'signalled')).toBeGreaterThanOrEqual(report.containers[1]!.exit.at);
    expect(report.containers[0]!.lastLines.at(-1)).toContain('Stopped.');
  });

  it('SIGKILLs a container that ignores SIGTERM when the grace period runs out, and stops the rest', async () => {
    const p = pod(
      [await container('sidecar', 'sidecar')],
      await container('app', 'app', { IGNORE_TERM: '1' }),
      1_000,
    );
    await p.start();

    const report = await p.terminate();

    const [app, sidecar] = report.containers;
    expect(app).toMatchObject({ name: 'app', killed: true, exit: { signal: 'SIGKILL' } });
    expect(app!.tookMs).toBeGreaterThanOrEqual(900);
    expect(sidecar).toMatchObject({ name: 'sidecar', killed: false, exit: { code: 0 } });
    expect(p.events.some((e) => e.container === 'app' && e.kind === 'killed')).toBe(true);
  });

  it("fails the start naming the container's exit code and last lines when it exits before its probe passes", async () => {
    const p = pod(
      [await container('broken', 'sidecar', { EXIT_AT_ONCE: '2' })],
      await container('app', 'app'),
    );

    await expect(p.start()).rejects.toThrow(
      /broken exited with code 2; its last lines:[\s\S]*Giving up at once/,
    );
    expect(p.events.some((e) => e.container === 'app')).toBe(false);
  });

  it('restarts a SIGKILLed sidecar with a new process and probes it again, as the kubelet does', async () => {
    const p = pod([await container('sidecar', 'sidecar')], await container('app', 'app'));
    await p.start();
    const before = p.container('sidecar');

    const after = await p.killAndRestart('sidecar');

    expect((await before.exited).signal).toBe('SIGKILL');
    expect(after.pid).not.toBe(before.pid);
    expect(after.running).toBe(true);
    expect(p.events.filter((e) => e.container === 'sidecar' && e.kind === 'probe passed')).toHaveLength(2);
    expect(p.container('app').running).toBe(true);
  });

  it('reports a container that died before the termination as already exited, without signalling it', async () => {
    const p = pod([await container('sidecar', 'sidecar')], await container('app', 'app'));
    await p.start();
    p.container('app').kill();
    await p.container('app').exited;

    const report = await p.terminate();

    expect(report.containers[0]).toMatchObject({
      name: 'app',
      alreadyExited: true,
      exit: { signal: 'SIGKILL' },
    });
    expect(p.events.filter((e) => e.kind === 'signalled').map((e) => e.container)).toEqual(['sidecar']);
  });
});
