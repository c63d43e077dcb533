import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, requireTool } from '@agent-sidecars/shared/testing';
import {
  AGENT_DIR,
  AgentClient,
  type AgentRuntime,
  detectAgentRuntime,
  INSTALL_HINT,
  type LocalPod,
  type LocalPodOptions,
  localPod,
  Pod,
  parseShippedRecord,
  REPO_ROOT,
  RecordLedger,
  RecordReceiver,
} from '../../packages/pod-runner/src/index.js';

export const PYTHON = '/usr/bin/python3';
const BUILT = [
  'packages/log-sidecar/dist/main.js',
  'packages/metrics-sidecar/dist/main.js',
  'packages/pod-runner/dist/stand-in-agent/main.js',
];

/** The real FastAPI agent, or why it cannot run here (the suite is then skipped with that reason). */
export const agentRuntime: AgentRuntime = detectAgentRuntime(PYTHON, AGENT_DIR);
export const noFastApiReason = requireTool('the real FastAPI agent', {
  probe: () => (agentRuntime.kind === 'fastapi' ? undefined : agentRuntime.reason),
  install: agentRuntime.kind === 'fastapi' ? '' : (agentRuntime.installHint ?? INSTALL_HINT),
}).missing;

export function assertBuilt(): void {
  const missing = BUILT.filter((path) => !existsSync(join(REPO_ROOT, path)));
  if (missing.length > 0) {
    throw new Error(`${missing.join(', ')} missing: run \`pnpm build\` before the end-to-end tests`);
  }
}

/** A pino line of a sidecar's stderr. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

export interface PodUnderTest {
  readonly pod: Pod;
  readonly spec: LocalPod;
  readonly client: AgentClient;
  /** Records the log-sidecar wrote to stdout (stdout sink, or the deadline spill), across restarts. */
  readonly stdoutRecords: RecordLedger;
  /** Each container's stderr lines parsed as JSON when they are (the sidecars' pino logs). */
  readonly logs: Map<string, LogLine[]>;
  readonly dir: string;
}

export interface PodOptions {
  readonly logSidecar?: LocalPodOptions['logSidecar'];
  readonly metricsSidecar?: LocalPodOptions['metricsSidecar'];
  readonly agentLog?: LocalPodOptions['agentLog'];
  readonly terminationGracePeriodMs?: number;
  /** Start only the sidecars (startup-order test); the test calls pod.startApp(). */
  readonly sidecarsOnly?: boolean;
}

const running: PodUnderTest[] = [];
const receivers: RecordReceiver[] = [];

/** A Pod of real processes on free ports in a temp dir, registered for {@link cleanUp}. */
export async function startPod(options: PodOptions = {}): Promise<PodUnderTest> {
  if (agentRuntime.kind !== 'fastapi') throw new Error(noFastApiReason);
  const dir = mkdtempSync(join(tmpdir(), 'pod-e2e-'));
  const spec = localPod({
    dir,
    node: process.execPath,
    agent: agentRuntime,
    ports: { logSidecar: await freePort(), metricsSidecar: await freePort(), agent: await freePort() },
    baseEnv: process.env,
    terminationGracePeriodMs: options.terminationGracePeriodMs ?? 30_000,
    logSidecar: options.logSidecar ?? {},
    metricsSidecar: options.metricsSidecar ?? {},
    agentLog: options.agentLog ?? {},
  });
  const stdoutRecords = new RecordLedger();
  const logs = new Map<string, LogLine[]>();
  const pod = new Pod({
    ...spec,
    onLine: (container, stream, text) => {
      if (container === 'log-sidecar' && stream === 'stdout') {
        stdoutRecords.add(parseShippedRecord(text));
        return;
      }
      if (stream !== 'stderr' || !text.startsWith('{')) return;
      try {
        const list = logs.get(container) ?? [];
        list.push(JSON.parse(text) as LogLine);
        logs.set(container, list);
      } catch {
        // Not a pino line (a Python warning): not needed by any assertion.
      }
    },
  });
  const client = new AgentClient(spec.urls.agent);
  const underTest: PodUnderTest = { pod, spec, client, stdoutRecords, logs, dir };
  running.push(underTest);
  if (options.sidecarsOnly) await pod.startSidecars();
  else await pod.start();
  return underTest;
}

export async function startReceiver(): Promise<RecordReceiver> {
  const receiver = new RecordReceiver();
  await receiver.start(0);
  receivers.push(receiver);
  return receiver;
}

/** Kills whatever a test left running and removes its files; for afterEach. */
export async function cleanUp(): Promise<void> {
  for (const { pod, client, dir } of running.splice(0)) {
    client.close();
    pod.kill();
    await pod.exited();
    rmSync(dir, { recursive: true, force: true });
  }
  for (const receiver of receivers.splice(0)) await receiver.stop();
}

/** Sequential request ids for one test: `<prefix>-0001` ... */
export function requestIds(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, n) => `${prefix}-${String(n + 1).padStart(4, '0')}`);
}

/**
 * Every wanted request id must be in the ledger, and each request line must be one record id: a line
 * delivered twice is the same id twice (at-least-once), never a second record.
 */
export function deliveryOf(ledger: RecordLedger, wanted: readonly string[]) {
  const byRequest = ledger.byRequestId();
  const missing = wanted.filter((id) => !byRequest.has(id));
  const splitLines = wanted.filter((id) => (byRequest.get(id)?.length ?? 0) > 1);
  return { missing, splitLines, duplicates: ledger.duplicates, distinct: ledger.distinct };
}
