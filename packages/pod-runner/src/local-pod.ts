import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentRuntime } from './agent-runtime.js';
import type { ContainerSpec, PodOptions } from './pod.js';

/** The repository root, from this module's place in packages/pod-runner/{src,dist}/. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export type LogSink =
  | { readonly kind: 'stdout' }
  | {
      readonly kind: 'http';
      readonly url: string;
      readonly format?: 'ndjson' | 'loki' | 'elasticsearch' | 'otlp';
    };

export interface LocalPodOptions {
  /** The Pod's own directory; the shared log volume is `<dir>/logs`. */
  readonly dir: string;
  /** The node binary that runs the sidecars and the stand-in agent. */
  readonly node: string;
  readonly agent: AgentRuntime;
  readonly ports: { readonly logSidecar: number; readonly metricsSidecar: number; readonly agent: number };
  /** The environment every container starts from (PATH, HOME, ...). */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  readonly podName?: string;
  readonly terminationGracePeriodMs?: number;
  readonly logSidecar?: {
    readonly sink?: LogSink;
    readonly shutdownTimeout?: string;
    readonly batchTimeout?: string;
    readonly onDeadline?: 'stdout' | 'drop';
    readonly multiline?: string;
    readonly extraArgs?: readonly string[];
  };
  readonly metricsSidecar?: {
    readonly interval?: string;
    readonly timeout?: string;
    readonly staleAfter?: string;
    readonly shutdownTimeout?: string;
    readonly extraArgs?: readonly string[];
  };
  /** $AGENT_INSTANCE of the agent, echoed by its /healthz: proof that a port reaches this Pod's agent. */
  readonly agentInstance?: string;
  /** The agent's log rotation (RotatingFileHandler maxBytes / backupCount). */
  readonly agentLog?: { readonly maxBytes?: number; readonly backupCount?: number };
}

export interface LocalPod extends PodOptions {
  /** The shared `emptyDir`: the agent writes here, the log-sidecar tails it. */
  readonly logDir: string;
  readonly logFile: string;
  readonly urls: {
    readonly agent: string;
    readonly logSidecar: string;
    readonly metricsSidecar: string;
  };
}

/**
 * The example Pod of k8s/ as processes: log-sidecar, then metrics-sidecar (native sidecars, probed on
 * their own `/readyz`), then the agent, on loopback ports, sharing `<dir>/logs` as the Pod shares its
 * `emptyDir`. The sidecars run the built `dist/main.js` of their packages.
 */
export function localPod(options: LocalPodOptions): LocalPod {
  const logDir = join(options.dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, 'requests.log');
  const { ports } = options;
  const loopback = (port: number) => `http://127.0.0.1:${port}`;
  const env = { ...options.baseEnv };
  // The runner's own Node flags (a test runner's loaders, inspectors) are not the sidecars' business.
  delete env.NODE_OPTIONS;

  const log = options.logSidecar ?? {};
  const sink = log.sink ?? { kind: 'stdout' };
  const logSidecar: ContainerSpec = {
    name: 'log-sidecar',
    role: 'sidecar',
    command: options.node,
    args: [
      join(REPO_ROOT, 'packages/log-sidecar/dist/main.js'),
      ...['--path', join(logDir, '*.log')],
      ...['--listen', `127.0.0.1:${ports.logSidecar}`],
      ...['--format', 'json'],
      ...['--multiline', log.multiline ?? 'python'],
      ...['--batch-timeout', log.batchTimeout ?? '1s'],
      ...['--shutdown-timeout', log.shutdownTimeout ?? '25s'],
      ...(sink.kind === 'stdout'
        ? ['--sink', 'stdout']
        : ['--sink', 'http', '--sink-url', sink.url, '--sink-format', sink.format ?? 'ndjson']),
      ...(log.onDeadline ? ['--on-deadline', log.onDeadline] : []),
      ...(log.extraArgs ?? []),
    ],
    env: {
      ...env,
      // What the Downward API gives the container in k8s/.
      POD_NAME: options.podName ?? 'agent-local',
      POD_NAMESPACE: 'local',
      NODE_NAME: hostname(),
      CONTAINER_NAME: 'agent',
    },
    startupProbe: `${loopback(ports.logSidecar)}/readyz`,
  };

  const metrics = options.metricsSidecar ?? {};
  const metricsSidecar: ContainerSpec = {
    name: 'metrics-sidecar',
    role: 'sidecar',
    command: options.node,
    args: [
      join(REPO_ROOT, 'packages/metrics-sidecar/dist/main.js'),
      ...['--target', `app=${loopback(ports.agent)}/metrics`],
      ...['--target', `log-sidecar=${loopback(ports.logSidecar)}/metrics`],
      ...['--listen', `127.0.0.1:${ports.metricsSidecar}`],
      ...['--interval', metrics.interval ?? '15s'],
      ...['--timeout', metrics.timeout ?? '5s'],
      ...(metrics.staleAfter ? ['--stale-after', metrics.staleAfter] : []),
      ...['--shutdown-timeout', metrics.shutdownTimeout ?? '10s'],
      ...(metrics.extraArgs ?? []),
    ],
    env,
    startupProbe: `${loopback(ports.metricsSidecar)}/readyz`,
  };

  const agentEnv = {
    ...env,
    LOG_FILE: logFile,
    ...(options.agentInstance === undefined ? {} : { AGENT_INSTANCE: options.agentInstance }),
    ...(options.agentLog?.maxBytes === undefined ? {} : { LOG_MAX_BYTES: String(options.agentLog.maxBytes) }),
    ...(options.agentLog?.backupCount === undefined
      ? {}
      : { LOG_BACKUP_COUNT: String(options.agentLog.backupCount) }),
  };
  const hostPort = ['--host', '127.0.0.1', '--port', String(ports.agent)];
  const agent: ContainerSpec =
    options.agent.kind === 'fastapi'
      ? {
          name: 'agent',
          role: 'app',
          command: options.agent.python,
          // The agent's own JSON request log is what the log-sidecar ships; uvicorn's access log would only
          // repeat it (and every probe and scrape) on stderr.
          args: ['-m', 'uvicorn', 'app:app', ...hostPort, '--no-access-log'],
          cwd: options.agent.agentDir,
          env: { ...agentEnv, PYTHONUNBUFFERED: '1' },
          startupProbe: `${loopback(ports.agent)}/healthz`,
        }
      : {
          name: 'agent',
          role: 'app',
          command: options.node,
          args: [join(REPO_ROOT, 'packages/pod-runner/dist/stand-in-agent/main.js'), ...hostPort],
          env: agentEnv,
          startupProbe: `${loopback(ports.agent)}/healthz`,
        };

  return {
    sidecars: [logSidecar, metricsSidecar],
    app: agent,
    terminationGracePeriodMs: options.terminationGracePeriodMs ?? 30_000,
    logDir,
    logFile,
    urls: {
      agent: loopback(ports.agent),
      logSidecar: loopback(ports.logSidecar),
      metricsSidecar: loopback(ports.metricsSidecar),
    },
  };
}

/** Where the example agent lives in the repository. */
export const AGENT_DIR = join(REPO_ROOT, 'examples/agent');
