import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { commandProbe, requireTool, waitFor } from '@agent-sidecars/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManagedProcess } from '../src/managed-process.js';

const RUNNER = fileURLToPath(new URL('./fixtures/runner-with-child.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../dist/managed-process.js', import.meta.url));

beforeAll(() => {
  if (!existsSync(BUILT)) throw new Error('packages/pod-runner/dist is missing: run `pnpm build` first');
});

// ManagedProcess ties the child to its runner through util-linux's setpriv where it exists.
const setpriv = requireTool('setpriv', {
  probe: commandProbe('/usr/bin/setpriv', ['--version']),
  install: 'apt-get install util-linux',
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('ManagedProcess, as real processes', () => {
  it.skipIf(!setpriv.available)('never outlives a runner that is SIGKILLed', async () => {
    const runner = spawn(process.execPath, [RUNNER], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    runner.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    const childPid = await waitFor('the child pid', () =>
      output.includes('\n') ? Number(output) : undefined,
    );
    expect(alive(childPid)).toBe(true);

    runner.kill('SIGKILL');

    await waitFor('the child to die with its runner', () => (alive(childPid) ? undefined : true), {
      timeoutMs: 5_000,
    });
  });

  it('escalates to SIGKILL after the grace period and reports it', async () => {
    const stubborn = new ManagedProcess({
      name: 'stubborn',
      command: process.execPath,
      args: [
        '-e',
        "process.on('SIGTERM', () => console.error('ignoring SIGTERM')); console.error('armed'); setInterval(() => {}, 1000)",
      ],
      env: { PATH: process.env.PATH },
    });
    await stubborn.waitForLine('its SIGTERM handler', (text) => text === 'armed');

    const report = await stubborn.stop('SIGTERM', 500);

    expect(report.killed).toBe(true);
    expect(report.exit.signal).toBe('SIGKILL');
  });

  it('resolves waitForLine on a matching line and rejects, quoting the last lines, when the process exits first', async () => {
    const talker = new ManagedProcess({
      name: 'talker',
      command: process.execPath,
      args: ['-e', "console.error('hello'); console.log('out line'); process.exit(3)"],
      env: { PATH: process.env.PATH },
    });
    expect(await talker.waitForLine('hello', (text, stream) => stream === 'stderr' && text === 'hello')).toBe(
      'hello',
    );
    await expect(talker.waitForLine('goodbye', (text) => text === 'goodbye')).rejects.toThrow(
      /talker exited with code 3 before goodbye; its last lines:[\s\S]*out line/,
    );
    expect(talker.tail(5, 'stdout')).toEqual(['out line']);
  });

  it('reports a command that cannot be started', async () => {
    const missing = new ManagedProcess({
      name: 'missing',
      command: '/nonexistent/binary',
      args: [],
      env: {},
    });
    const exit = await missing.exited;
    expect(exit.code).not.toBe(0);
    expect(missing.running).toBe(false);
    // Through setpriv the failure is its message; without it, Node's spawn error.
    expect(missing.spawnError?.message ?? missing.tail(1)[0]).toMatch(/nonexistent\/binary/);
  });
});
