import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Which docker CLI talks to which engine (DOCKER_HOST in `env`). */
export interface DockerEngine {
  readonly cli: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * The engine of `env` (DOCKER_HOST). The CLI is AGENT_SIDECARS_DOCKER, else Debian's `/usr/bin/docker`
 * (the docker.io package's, with its built-in BuildKit client, as scripts/container-env.sh uses), else
 * `docker` on PATH.
 */
export function dockerEngine(env: Readonly<Record<string, string | undefined>> = process.env): DockerEngine {
  const cli = env.AGENT_SIDECARS_DOCKER ?? (existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker');
  return { cli, env };
}

/** Runs one docker CLI command; resolves with its stdout, trimmed, rejects quoting its stderr. */
export function docker(
  engine: DockerEngine,
  args: readonly string[],
  options: { readonly timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      engine.cli,
      args,
      { env: engine.env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const said = stderr.trim() || error.message;
          reject(new Error(`docker ${args.slice(0, 2).join(' ')}: ${said}`));
        } else {
          resolve(stdout.trim());
        }
      },
    );
  });
}
