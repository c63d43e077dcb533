import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type LogLine, ProcessTracker, SidecarProcess, waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/lifecycle-app.mjs', import.meta.url));
const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));

interface Running {
  child: ChildProcess;
  lines: LogLine[];
  port: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

const apps = new ProcessTracker(
  (env: Record<string, string>) =>
    new SidecarProcess({ name: 'the lifecycle fixture', main: fixture, env, inheritEnv: true }),
);
afterEach(() => apps.cleanup());

beforeAll(() => {
  if (!existsSync(built))
    throw new Error('packages/shared/dist is missing: run `pnpm build` before the end-to-end tests');
});

async function launch(env: Record<string, string>): Promise<Running> {
  const app = apps.start(env);
  await app.ready();
  const exited = app.exited.then((exit) => ({ ...exit, at: app.exitedAt! }));
  return { child: app.child, lines: app.logs, port: app.port!, exited };
}

async function readyz(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('a program on the shared lifecycle, as a real process', () => {
  it('is ready, turns not ready while draining on SIGTERM, and exits 0 when its steps finish', async () => {
    const app = await launch({ FIXTURE_STEP_MS: '1500' });
    expect(await readyz(app.port)).toEqual({
      status: 200,
      body: { status: 'ready', state: 'ready', checks: {} },
    });
    app.child.kill('SIGTERM');
    await waitFor('the flush step', () => app.lines.find((line) => line.msg === 'Flush step started.'));
    expect(await readyz(app.port)).toEqual({
      status: 503,
      body: { status: 'not ready', state: 'draining', checks: {} },
    });
    const live = await fetch(`http://127.0.0.1:${app.port}/livez`);
    expect(live.status).toBe(200);
    const { code } = await app.exited;
    expect(code).toBe(0);
    expect(app.lines.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['Shutting down.', 'Flush step finished.', 'Shutdown complete.']),
    );
    expect(app.lines.find((line) => line.msg === 'Shutting down.')).toMatchObject({
      reason: 'SIGTERM',
      level: 'info',
      name: 'lifecycle-fixture',
    });
  });

  it('exits 1 at once on a second SIGINT, naming the unfinished steps', async () => {
    const app = await launch({ FIXTURE_BEHAVIOUR: 'hang' });
    app.child.kill('SIGINT');
    await waitFor('the flush step', () => app.lines.find((line) => line.msg === 'Flush step started.'));
    app.child.kill('SIGINT');
    // The step hangs for ever: only the second signal can end the process before the test times out.
    const { code } = await app.exited;
    expect(code).toBe(1);
    expect(
      app.lines.find((line) => line.msg === 'Second signal during shutdown; exiting now.'),
    ).toMatchObject({
      level: 'error',
      unfinished: ['flush', 'close-health'],
    });
  });

  it('exits 1 at the shutdown deadline when a step hangs, naming the steps not finished', async () => {
    const app = await launch({ FIXTURE_BEHAVIOUR: 'hang', FIXTURE_SHUTDOWN_TIMEOUT: '1s' });
    const sentAt = Date.now();
    app.child.kill('SIGTERM');
    const { code, at } = await app.exited;
    expect(code).toBe(1);
    // Never before the 1 s deadline (a lower bound a slow machine cannot break); that it does not hang on
    // is the deadline message below and the test's own timeout.
    expect(at - sentAt).toBeGreaterThanOrEqual(900);
    expect(app.lines.find((line) => line.msg === 'Shutdown deadline passed; exiting.')).toMatchObject({
      unfinished: ['flush', 'close-health'],
      shutdownTimeoutMs: 1000,
    });
  });

  it.each([
    ['throw', 'Stopping after an uncaught exception.', 'fixture exploded'],
    ['reject', 'Stopping after an unhandled rejection.', 'fixture rejected'],
  ])('logs a fatal %s, runs the shutdown steps and exits 1', async (behaviour, message, errorText) => {
    const app = await launch({ FIXTURE_BEHAVIOUR: behaviour });
    const { code } = await app.exited;
    expect(code).toBe(1);
    const fatal = app.lines.find((line) => line.msg === message) as
      | { err?: { message?: string } }
      | undefined;
    expect(fatal?.err?.message).toBe(errorText);
    expect(app.lines.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['Flush step finished.', 'Shutdown complete.']),
    );
    expect(app.lines.find((line) => line.msg === 'Shutdown complete.')).toMatchObject({ exitCode: 1 });
  });
});
