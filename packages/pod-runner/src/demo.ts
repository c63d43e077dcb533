import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, portIsFree, preferredOrFreePort, waitFor } from '@agent-sidecars/shared';
import { type AgentRuntime, detectAgentRuntime } from './agent-runtime.js';
import { httpGet } from './http-probe.js';
import { AGENT_DIR, type LogSink, localPod } from './local-pod.js';
import { describeExit } from './managed-process.js';
import type { OutputFormatter } from './output-formatter.js';
import { Pod, type TerminationReport } from './pod.js';
import {
  parseShippedRecord,
  RecordLedger,
  RecordReceiver,
  requestIdOf,
  type ShippedRecord,
} from './record-receiver.js';
import { AgentClient } from './traffic.js';

export interface DemoConfig {
  readonly keepRunning: boolean;
  readonly requests: number;
  readonly sink: 'stdout' | 'http';
  readonly dir: string;
  readonly scrapeInterval: number;
  readonly terminationGracePeriod: number;
  readonly python: string;
  /** Ports to use; undefined: the usual one (:8000, :9091, :9090) when free, else any free port. */
  readonly agentPort: number | undefined;
  readonly logSidecarPort: number | undefined;
  readonly metricsSidecarPort: number | undefined;
}

export interface DemoIo {
  readonly print: (text: string) => void;
  readonly format: OutputFormatter;
  readonly node: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted on Ctrl-C / SIGTERM to the runner. */
  readonly stop: AbortSignal;
  /** Told about the Pod as soon as it exists, so the caller can kill it if the runner dies. */
  readonly adopt: (pod: Pod) => void;
}

/** The families shown from `:9090` after the traffic: the agent's, and the metrics-sidecar's health. */
export const SHOWN_METRICS =
  /^(agent_requests_total|agent_request_duration_seconds_count|metrics_sidecar_target_up|metrics_sidecar_last_success_age_seconds)[{ ]/;
/**
 * The log-sidecar's delivery figures, read from its own /metrics after the last acknowledgement (the
 * merged :9090 copy is one scrape old, and would show fewer delivered than were just shipped).
 */
const SHOWN_LOG_METRICS = /^log_sidecar_records_(read|delivered)_total[{ ]/;

/**
 * The scripted scenario of `pnpm demo`: start the Pod in the kubelet's order, drive a burst of requests,
 * show the shipped records and the merged metrics, then terminate in the kubelet's order and report what
 * each container did on its way out. Resolves with the exit code.
 */
export async function runDemo(config: DemoConfig, io: DemoIo): Promise<number> {
  const { print, format } = io;
  const say = (text: string) => print(format.say(text));
  const runtime = detectAgentRuntime(config.python, AGENT_DIR);
  describeRuntime(runtime, say);

  // A Pod starts with an empty emptyDir: clear what an earlier run left.
  rmSync(join(config.dir, 'logs'), { recursive: true, force: true });
  const chosen = await choosePorts(config);
  if ('error' in chosen) {
    say(chosen.error);
    return 2;
  }
  const { ports } = chosen;
  // A per-run token the agent echoes on /healthz: the only proof that the process answering on the
  // agent's port is the agent this run started (another process may take a port after it was checked).
  const instance = `demo-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const ledger = new RecordLedger();
  let receiver: RecordReceiver | undefined;
  let sink: LogSink = { kind: 'stdout' };
  if (config.sink === 'http') {
    receiver = new RecordReceiver({
      onRecords: (records) =>
        print(
          `${format.prefix('receiver')} received ${records.length} record(s); ${receiver!.ledger.distinct} distinct so far`,
        ),
    });
    await receiver.start();
    sink = { kind: 'http', url: receiver.url };
    say(`HTTP sink receiver listening on ${receiver.url}`);
  }
  const spec = localPod({
    dir: config.dir,
    node: io.node,
    agent: runtime,
    ports,
    agentInstance: instance,
    baseEnv: io.env,
    terminationGracePeriodMs: config.terminationGracePeriod,
    logSidecar: { sink },
    metricsSidecar: {
      interval: `${config.scrapeInterval}ms`,
      timeout: `${Math.max(100, Math.floor(config.scrapeInterval / 2))}ms`,
    },
  });
  const pod = new Pod({
    ...spec,
    onLine: (container, stream, text) => {
      if (container === 'log-sidecar' && stream === 'stdout' && config.sink === 'stdout') {
        try {
          ledger.add(parseShippedRecord(text));
        } catch {
          // Printed below as it is; the count simply does not include it.
        }
      }
      print(format.line(container, stream, text));
    },
    onEvent: (event) => print(format.event(event)),
  });
  io.adopt(pod);
  const shipped = receiver ? receiver.ledger : ledger;
  say(`shared log directory (the Pod's emptyDir): ${spec.logDir}`);
  say(
    `ports: log-sidecar :${ports.logSidecar}, metrics-sidecar :${ports.metricsSidecar}, agent :${ports.agent}`,
  );

  const client = new AgentClient(spec.urls.agent);
  const runId = Date.now().toString(36);
  const requestIds = Array.from(
    { length: config.requests },
    (_, n) => `demo-${runId}-${String(n + 1).padStart(3, '0')}`,
  );
  let scenarioError: Error | undefined;
  try {
    say('starting the Pod like the kubelet: each native sidecar, then its startup probe, then the agent');
    await pod.start();
    throwIfStopped(io.stop);
    await proveOwnAgent(spec.urls.agent, ports.agent, instance);
    say(`the agent on :${ports.agent} echoed this run's token on /healthz: it is this demo's agent`);

    say(
      `sending ${config.requests} POST /inference requests and one that fails (its traceback is one record)`,
    );
    const outcomes = await client.burst(requestIds);
    const failed = await client.inference(`demo-${runId}-fail`, 'this one breaks', true);
    const notOk = outcomes.filter((outcome) => outcome.status !== 200);
    if (notOk.length > 0) throw new Error(`${notOk.length} request(s) were not answered 200`);
    say(`the agent answered ${outcomes.length} x 200 and ${failed.status} for the failing one`);

    const mine = () =>
      shipped.records().filter((record) => requestIdOf(record)?.startsWith(`demo-${runId}-`));
    const expected = config.requests + 1;
    try {
      await waitFor(
        `the log-sidecar to ship all ${expected} request lines`,
        () => (mine().length >= expected ? true : undefined),
        { timeoutMs: 20_000, signal: io.stop },
      );
    } catch (error) {
      if (io.stop.aborted) throw error;
      throw new Error(blameForMissingLines(spec.logDir, `demo-${runId}-`, expected, mine().length));
    }
    say(
      `the log-sidecar shipped all ${mine().length} request lines (${shipped.duplicates} duplicate deliveries)`,
    );
    const failId = `demo-${runId}-fail`;
    const errorRecord = shipped.records().find((record) => requestIdOf(record) === failId);
    const problem = errorRecordProblem(errorRecord);
    if (problem !== undefined) throw new Error(`the failing request's record ${problem}`);
    const fields = errorRecord!.fields!;
    const traceback = String(fields.exc_info).split('\n');
    say(
      `the failing request's record keeps its JSON line: request_id=${failId} level=${fields.level} time=${errorRecord!.time} (the agent's ts), and its ${traceback.length}-line traceback in fields.exc_info, ending "${traceback.at(-1)}"`,
    );
    // Its counters move when the sink acknowledges, an instant after the line is out: read them once they
    // count everything shipped, so no figure below reads like a lost record.
    const logMetrics = await waitFor(
      "the log-sidecar's /metrics to count every shipped record as delivered",
      async () => {
        const { status, body } = await httpGet(`${spec.urls.logSidecar}/metrics`);
        return status === 200 && sampleSum(body, 'log_sidecar_records_delivered_total') >= shipped.distinct
          ? body
          : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, signal: io.stop },
    );
    say(
      `the log-sidecar's own figures on :${ports.logSidecar}/metrics, read after the last acknowledgement:`,
    );
    for (const line of logMetrics.split('\n').filter((l) => SHOWN_LOG_METRICS.test(l))) {
      print(format.say(`  ${line}`, 'log-sidecar'));
    }

    say(
      `waiting for the metrics-sidecar's next scrape (every ${config.scrapeInterval} ms here; 15 s by default)`,
    );
    const metrics = await waitFor(
      ':9090 to serve the requests just made',
      async () => {
        const { status, body } = await httpGet(`${spec.urls.metricsSidecar}/metrics`);
        return status === 200 && inferenceCount(body) >= config.requests ? body : undefined;
      },
      { timeoutMs: config.scrapeInterval * 3 + 10_000, intervalMs: 200, signal: io.stop },
    );
    const shown = metrics.split('\n').filter((line) => SHOWN_METRICS.test(line));
    say(
      `the merged metrics on :${ports.metricsSidecar}/metrics (${metrics.split('\n').filter((l) => l && !l.startsWith('#')).length} samples; a selection):`,
    );
    for (const line of shown) print(format.say(`  ${line}`, 'metrics-sidecar'));

    if (config.keepRunning) {
      say('the Pod keeps running; try, then press Ctrl-C to terminate it like the kubelet:');
      say(
        `  curl -s -X POST ${spec.urls.agent}/inference -H 'content-type: application/json' -d '{"input":"good"}'`,
      );
      say(`  curl -s ${spec.urls.metricsSidecar}/metrics | grep ^agent_`);
      say(`  curl -s ${spec.urls.logSidecar}/readyz`);
      await new Promise<void>((resolve) => {
        if (io.stop.aborted) resolve();
        io.stop.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  } catch (error) {
    scenarioError = error as Error;
    say(`the scenario failed: ${scenarioError.message}`);
  } finally {
    client.close();
  }

  say(
    'terminating the Pod like the kubelet: SIGTERM to the agent and wait, then each sidecar in reverse order',
  );
  const report = await pod.terminate();
  await receiver?.stop();
  printTermination(report, say, format);
  const clean = report.containers.every((container) => container.exit.code === 0 && !container.killed);
  if (scenarioError || !clean) {
    say(scenarioError ? 'the demo did not complete.' : 'a container did not exit cleanly (see above).');
    return 1;
  }
  say(`done: ${shipped.distinct} records shipped, every container exited 0 within the grace period.`);
  return 0;
}

async function choosePorts(
  config: DemoConfig,
): Promise<{ ports: { logSidecar: number; metricsSidecar: number; agent: number } } | { error: string }> {
  const wanted = [
    ['logSidecar', config.logSidecarPort, 9091, '--log-sidecar-port'],
    ['metricsSidecar', config.metricsSidecarPort, 9090, '--metrics-sidecar-port'],
    ['agent', config.agentPort, 8000, '--agent-port'],
  ] as const;
  const ports = { logSidecar: 0, metricsSidecar: 0, agent: 0 };
  const taken = new Set<number>();
  for (const [key, given, usual, flag] of wanted) {
    if (given !== undefined) {
      if (taken.has(given) || !(await portIsFree(given))) {
        return {
          error: `${flag} ${given}: the port is in use by another process; choose another, or leave ${flag} out for a free one.`,
        };
      }
      ports[key] = given;
    } else {
      let port = await preferredOrFreePort(usual);
      while (taken.has(port)) port = await freePort();
      ports[key] = port;
    }
    taken.add(ports[key]);
  }
  return { ports };
}

/** Fails unless the agent's /healthz echoes this run's token. */
export async function proveOwnAgent(url: string, port: number, instance: string): Promise<void> {
  const { status, body } = await httpGet(`${url}/healthz`);
  let echoed: unknown;
  try {
    echoed = (JSON.parse(body) as { instance?: unknown }).instance;
  } catch {
    echoed = undefined;
  }
  if (status !== 200 || echoed !== instance) {
    throw new Error(
      `the process answering on :${port} is not this demo's agent (its /healthz answered ${status} without this run's token): another process took the port; choose one with --agent-port`,
    );
  }
}

/**
 * Which component to blame when fewer request lines were shipped than sent, from evidence: the lines of
 * this run the agent wrote to its log files (requests.log and rotated ones) against those shipped.
 */
export function blameForMissingLines(
  logDir: string,
  marker: string,
  expected: number,
  shipped: number,
): string {
  let written = 0;
  for (const name of existsSync(logDir) ? readdirSync(logDir) : []) {
    if (!name.startsWith('requests.log')) continue;
    for (const line of readFileSync(join(logDir, name), 'utf8').split('\n')) {
      if (line.includes(marker)) written++;
    }
  }
  if (written === 0) {
    return `the agent wrote 0 lines of this run to requests.log (${expected} expected): the requests did not reach this demo's agent, or it did not log them; see the agent's lines above`;
  }
  if (written < expected) {
    return `the agent wrote only ${written} of ${expected} lines of this run to requests.log, and the log-sidecar shipped ${shipped}; see the agent's lines above`;
  }
  return `the agent wrote all ${written} lines of this run to requests.log, but the log-sidecar shipped ${shipped} of them within 20 s; see the log-sidecar's lines above`;
}

/**
 * What is wrong with the failing request's shipped record, or undefined when it is what issue 17 asks
 * for: the fields of the agent's JSON line, the agent's `ts` as its time, the traceback in `exc_info`.
 */
export function errorRecordProblem(record: ShippedRecord | undefined): string | undefined {
  if (record === undefined) return 'was not shipped';
  const fields = record.fields;
  if (fields === undefined) return 'was shipped as text, without the fields of its JSON line';
  if (fields.level !== 'error') return `has level ${JSON.stringify(fields.level)}, not "error"`;
  const agentTime = typeof fields.ts === 'string' ? Date.parse(fields.ts) : Number.NaN;
  if (Number.isNaN(agentTime) || record.time !== new Date(agentTime).toISOString()) {
    return `has time ${record.time}, not the agent's ts ${String(fields.ts)}`;
  }
  const traceback = fields.exc_info;
  if (typeof traceback !== 'string' || !traceback.startsWith('Traceback (most recent call last):\n')) {
    return 'has no traceback in fields.exc_info';
  }
  if (typeof fields.error === 'string' && !traceback.endsWith(`\n${fields.error}`)) {
    return `has a traceback that does not end in its error "${fields.error}"`;
  }
  return undefined;
}

/** The sum of a family's samples in a text exposition (every label set). */
function sampleSum(exposition: string, family: string): number {
  let total = 0;
  for (const line of exposition.split('\n')) {
    if (line.startsWith(`${family}{`) || line.startsWith(`${family} `)) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

function describeRuntime(runtime: AgentRuntime, say: (text: string) => void): void {
  if (runtime.kind === 'fastapi') {
    say(`agent: the FastAPI example agent (${runtime.python} -m uvicorn app:app in ${runtime.agentDir})`);
    return;
  }
  say(`agent: the Node stand-in agent (same routes, log lines and metrics), because ${runtime.reason}.`);
  if (runtime.installHint)
    say(`to run the real FastAPI agent, install its Debian packages:\n  ${runtime.installHint}`);
}

/** The agent's `POST /inference` 200 count in an exposition. */
export function inferenceCount(exposition: string): number {
  let total = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith('agent_requests_total{')) continue;
    if (!line.includes('path="/inference"') || !line.includes('status="200"')) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

export function printTermination(
  report: TerminationReport,
  say: (text: string) => void,
  format: OutputFormatter,
): void {
  say(`the Pod terminated in ${(report.tookMs / 1000).toFixed(1)} s:`);
  for (const container of report.containers) {
    const took = `${(container.tookMs / 1000).toFixed(1)} s`;
    const what = container.alreadyExited
      ? `had already ${describeExit(container.exit).replace('was ', 'been ')}`
      : container.killed
        ? `SIGTERM, then SIGKILL when the grace period ran out after ${took}`
        : `SIGTERM, then ${describeExit(container.exit)} after ${took}`;
    say(`  ${container.name}: ${what}; its last lines:`);
    for (const line of container.lastLines) say(`      ${format.render(line)}`);
  }
}

function throwIfStopped(signal: AbortSignal): void {
  if (signal.aborted) throw new Error('stopped by a signal');
}
