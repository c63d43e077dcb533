import { spawnSync } from 'node:child_process';
import { it } from 'vitest';

/** Whether a tool a suite needs is here, and why not. */
export interface ToolRequirement {
  readonly name: string;
  readonly available: boolean;
  /** Why it is missing and how to install it; undefined when available. */
  readonly missing: string | undefined;
}

export interface ToolProbe {
  /** undefined when the tool works, else what is wrong (e.g. "not found", "lacks fastapi"). */
  readonly probe: () => string | undefined;
  /** How to get it, e.g. `apt-get install promtool`. */
  readonly install: string;
}

/** Where requireTool looks and reports; vitest's `it`, the process env and console.warn by default. */
export interface ToolContext {
  readonly env?: NodeJS.ProcessEnv;
  readonly test?: (name: string, body: () => void) => void;
  readonly warn?: (message: string) => void;
}

/** Whether this run is CI, where a missing tool must fail the suite instead of skipping it. */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.CI === '1';
}

/**
 * Checks for a tool at collection time. When it is missing, a suite must not read as green in CI: under
 * `CI=true` this registers a failing test naming the tool and how to install it (in the file or the
 * `describe` it is called from); otherwise it prints the skip reason. Use the result to skip:
 *
 *     const promtool = requireTool('promtool', { probe: commandProbe('promtool', ['--version']), install });
 *     describe.skipIf(!promtool.available)('...', () => { ... });
 */
export function requireTool(
  name: string,
  { probe, install }: ToolProbe,
  { env = process.env, test = it, warn = console.warn }: ToolContext = {},
): ToolRequirement {
  let problem: string | undefined;
  try {
    problem = probe();
  } catch (error) {
    problem = error instanceof Error ? error.message : String(error);
  }
  if (problem === undefined) return { name, available: true, missing: undefined };
  const missing = `${name} is not usable here: ${problem}; install it with: ${install}`;
  if (isCi(env)) {
    test(`needs ${name}`, () => {
      throw new Error(`${missing} (CI=true: a missing tool fails the suite instead of skipping it)`);
    });
  } else {
    warn(`skipping the tests that need ${name}: ${missing}`);
  }
  return { name, available: false, missing };
}

/** A probe that runs `command args` and wants exit status 0. */
export function commandProbe(command: string, args: readonly string[]): () => string | undefined {
  return () => {
    const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (result.error) return `\`${command}\` cannot run (${result.error.message})`;
    if (result.status !== 0) {
      const said = `${result.stderr}`.trim().split('\n')[0] ?? '';
      return `\`${[command, ...args].join(' ')}\` exited ${result.status}${said ? `: ${said}` : ''}`;
    }
    return undefined;
  };
}

/** A probe that wants `python` to import every module in `modules`. */
export function pythonModulesProbe(python: string, modules: readonly string[]): () => string | undefined {
  return () => {
    const result = spawnSync(python, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
    if (result.error) return `${python} cannot run (${result.error.message})`;
    if (result.status !== 0) return `${python} lacks one of ${modules.join(', ')}`;
    return undefined;
  };
}
