import { describe, expect, it } from 'vitest';
import { commandProbe, isCi, pythonModulesProbe, requireTool } from './require-tool.js';

const ABSENT = 'agent-sidecars-no-such-tool';
const absent = { probe: commandProbe(ABSENT, ['--version']), install: `apt-get install ${ABSENT}` };

function run(env: NodeJS.ProcessEnv) {
  const tests: { name: string; body: () => void }[] = [];
  const warnings: string[] = [];
  const result = requireTool(ABSENT, absent, {
    env,
    test: (name, body) => tests.push({ name, body }),
    warn: (message) => warnings.push(message),
  });
  return { result, tests, warnings };
}

describe('requireTool', () => {
  it('under CI=true registers a failing test naming the tool and how to install it', () => {
    const { result, tests, warnings } = run({ CI: 'true' });
    expect(result.available).toBe(false);
    expect(warnings).toEqual([]);
    expect(tests.map((t) => t.name)).toEqual([`needs ${ABSENT}`]);
    expect(() => tests[0]!.body()).toThrow(
      new RegExp(`${ABSENT} is not usable here: .*cannot run.*; install it with: apt-get install ${ABSENT}`),
    );
  });

  it('outside CI prints the skip reason and registers nothing', () => {
    const { result, tests, warnings } = run({});
    expect(result).toMatchObject({ name: ABSENT, available: false });
    expect(result.missing).toMatch(/install it with: apt-get install/);
    expect(tests).toEqual([]);
    expect(warnings).toEqual([`skipping the tests that need ${ABSENT}: ${result.missing}`]);
  });

  it('reports an available tool as available, silently, even under CI', () => {
    const tests: unknown[] = [];
    const result = requireTool(
      'node',
      { probe: commandProbe(process.execPath, ['--version']), install: 'n/a' },
      { env: { CI: 'true' }, test: () => tests.push(1), warn: () => tests.push(2) },
    );
    expect(result).toEqual({ name: 'node', available: true, missing: undefined });
    expect(tests).toEqual([]);
  });

  it('names a command that runs but fails, and a probe that throws', () => {
    expect(commandProbe(process.execPath, ['-e', 'process.exit(3)'])()).toMatch(/exited 3/);
    const thrown = requireTool(
      'thrower',
      {
        probe: () => {
          throw new Error('probe broke');
        },
        install: 'x',
      },
      { env: {}, warn: () => {} },
    );
    expect(thrown.missing).toMatch(/probe broke/);
    expect(pythonModulesProbe(`/nonexistent/${ABSENT}`, ['json'])()).toMatch(/cannot run/);
  });

  it('reads CI=true and CI=1 as CI', () => {
    expect([isCi({ CI: 'true' }), isCi({ CI: '1' }), isCi({ CI: 'false' }), isCi({})]).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });
});
