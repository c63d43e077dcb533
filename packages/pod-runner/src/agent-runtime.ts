import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The Python modules the example agent imports, and the Debian packages that provide them. */
const MODULES = [
  ['fastapi', 'python3-fastapi'],
  ['uvicorn', 'python3-uvicorn'],
  ['prometheus_client', 'python3-prometheus-client'],
] as const;

export const INSTALL_HINT = `sudo apt-get install ${MODULES.map(([, pkg]) => pkg).join(' ')}`;

export type AgentRuntime =
  | { readonly kind: 'fastapi'; readonly python: string; readonly agentDir: string }
  | { readonly kind: 'stand-in'; readonly reason: string; readonly installHint: string | undefined };

/**
 * Which agent the Pod runs: the real FastAPI agent under `python` when its modules import, otherwise the
 * Node stand-in, with the reason and, when modules are missing, the exact command that installs them.
 */
export function detectAgentRuntime(python: string, agentDir: string): AgentRuntime {
  if (!existsSync(join(agentDir, 'app.py'))) {
    return { kind: 'stand-in', reason: `${join(agentDir, 'app.py')} does not exist`, installHint: undefined };
  }
  if (!existsSync(python)) {
    return { kind: 'stand-in', reason: `${python} does not exist`, installHint: INSTALL_HINT };
  }
  const check = spawnSync(
    python,
    [
      '-c',
      'import importlib.util, sys\n' +
        'print(" ".join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))',
      ...MODULES.map(([module]) => module),
    ],
    { encoding: 'utf8', timeout: 15_000 },
  );
  if (check.status !== 0) {
    const why = check.error?.message ?? check.stderr.trim().split('\n').at(-1) ?? `exit code ${check.status}`;
    return {
      kind: 'stand-in',
      reason: `${python} could not check its modules: ${why}`,
      installHint: INSTALL_HINT,
    };
  }
  const missing = check.stdout.trim().split(/\s+/).filter(Boolean);
  if (missing.length > 0) {
    return {
      kind: 'stand-in',
      reason: `${python} lacks the module${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
      installHint: INSTALL_HINT,
    };
  }
  return { kind: 'fastapi', python, agentDir };
}
