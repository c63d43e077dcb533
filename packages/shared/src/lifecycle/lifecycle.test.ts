import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Lifecycle } from './lifecycle.js';

function harness(shutdownTimeoutMs = 10_000) {
  const exits: number[] = [];
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs, exit: (code) => exits.push(code) });
  return { lifecycle, exits, lines };
}

describe('Lifecycle', () => {
  it('moves starting -> ready -> draining -> stopped and runs steps in registration order', async () => {
    const { lifecycle, exits } = harness();
    const order: string[] = [];
    const states: string[] = [];
    lifecycle.addShutdownStep('stop-discovery', () => {
      order.push('stop-discovery');
      states.push(lifecycle.state);
    });
    lifecycle.addShutdownStep('flush', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      order.push('flush');
    });
    lifecycle.addShutdownStep('close', () => {
      order.push('close');
    });
    expect(lifecycle.state).toBe('starting');
    lifecycle.markReady();
    expect(lifecycle.state).toBe('ready');
    await lifecycle.shutdown('SIGTERM');
    expect(order).toEqual(['stop-discovery', 'flush', 'close']);
    expect(states).toEqual(['draining']);
    expect(lifecycle.state).toBe('stopped');
    expect(exits).toEqual([0]);
  });

  it('hands every step the deadline and a signal', async () => {
    const { lifecycle } = harness(3000);
    let seen: { deadline: number; aborted: boolean; reason: string } | undefined;
    lifecycle.addShutdownStep('look', ({ deadline, signal, reason }) => {
      seen = { deadline, aborted: signal.aborted, reason };
    });
    const before = Date.now();
    await lifecycle.shutdown('SIGINT');
    expect(seen?.aborted).toBe(false);
    expect(seen?.reason).toBe('SIGINT');
    expect(seen!.deadline).toBeGreaterThanOrEqual(before + 3000);
  });

  it('goes on after a failing step and exits 1', async () => {
    const { lifecycle, exits, lines } = harness();
    const ran: string[] = [];
    lifecycle.addShutdownStep('bad', () => {
      throw new Error('disk full');
    });
    lifecycle.addShutdownStep('after', () => {
      ran.push('after');
    });
    await lifecycle.shutdown('SIGTERM');
    expect(ran).toEqual(['after']);
    expect(exits).toEqual([1]);
    expect(
      lines.some(
        (line) => line.step === 'bad' && line.msg === 'Shutdown step failed; going on with the next.',
      ),
    ).toBe(true);
  });

  it('exits 1 at once on a second shutdown request, naming unfinished steps', async () => {
    const { lifecycle, exits, lines } = harness();
    lifecycle.addShutdownStep('hang', () => new Promise(() => {}));
    lifecycle.addShutdownStep('close', () => {});
    void lifecycle.shutdown('SIGTERM');
    await lifecycle.shutdown('SIGTERM');
    expect(exits).toEqual([1]);
    expect(lines.at(-1)).toMatchObject({
      msg: 'Second signal during shutdown; exiting now.',
      unfinished: ['hang', 'close'],
    });
  });

  it('exits 1 at the deadline, aborting the running step', async () => {
    const { lifecycle, exits, lines } = harness(50);
    let aborted = false;
    lifecycle.addShutdownStep(
      'wait-for-abort',
      ({ signal }) =>
        new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          }),
        ),
    );
    lifecycle.addShutdownStep('never-reached', () => {});
    await lifecycle.shutdown('SIGTERM');
    expect(aborted).toBe(true);
    expect(exits).toEqual([1]);
    expect(lines.find((line) => line.msg === 'Shutdown deadline passed; exiting.')).toMatchObject({
      unfinished: ['wait-for-abort', 'never-reached'],
    });
  });

  it('is not ready before markReady, while a check fails, or while draining', () => {
    const { lifecycle } = harness();
    let ok = true;
    lifecycle.addReadinessCheck('sink', () => ok);
    expect(lifecycle.readiness().ready).toBe(false);
    lifecycle.markReady();
    expect(lifecycle.readiness()).toEqual({ ready: true, state: 'ready', checks: { sink: 'ok' } });
    ok = false;
    expect(lifecycle.readiness()).toEqual({ ready: false, state: 'ready', checks: { sink: 'failing' } });
    expect(() => lifecycle.addReadinessCheck('sink', () => true)).toThrow(/registered twice/);
  });

  it('turns a fatal error into the same shutdown with exit code 1', async () => {
    const { lifecycle, exits, lines } = harness();
    const ran: string[] = [];
    lifecycle.addShutdownStep('flush', () => {
      ran.push('flush');
    });
    lifecycle.fail(new Error('boom'), 'uncaught exception');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(ran).toEqual(['flush']);
    expect(exits).toEqual([1]);
    expect(lines[0]).toMatchObject({
      msg: 'Stopping after an uncaught exception.',
      err: { message: 'boom' },
    });
  });
});
