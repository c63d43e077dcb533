import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/lifecycle-app.mjs', import.meta.url));
const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));

interface Running {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  port: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

beforeAll(() => {
  if (!existsSync(built))
    throw new Error('packages/shared/dist is missing: run `pnpm build` before the end-to-end tests');
});

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function launch(env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, [fixture], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  let buffered = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const part of parts) if (part.trim()) lines.push(JSON.parse(part));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const port = await waitFor(
    'the health server to listen',
    () => lines.find((line) => line.msg === 'Health server listening.')?.port as number | undefined,
  );
  await waitFor('readiness', async () => ((await readyz(port)).status === 200 ? true : undefined));
  return { child, lines, port, exited };
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
    const sentAt = Date.now();
    app.child.kill('SIGINT');
    const { code, at } = await app.exited;
    expect(code).toBe(1);
    expect(at - sentAt).toBeLessThan(5000);
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
    // A generous margin: the deadline is 1 s; the process must neither exit early nor hang on.
    expect(at - sentAt).toBeGreaterThanOrEqual(900);
    expect(at - sentAt).toBeLessThan(10_000);
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
