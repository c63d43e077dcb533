import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, requireTool, waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { detectAgentRuntime, INSTALL_HINT } from '../src/agent-runtime.js';
import { httpGet, probePasses } from '../src/http-probe.js';
import { AGENT_DIR } from '../src/local-pod.js';
import { ManagedProcess } from '../src/managed-process.js';
import { AgentClient } from '../src/traffic.js';

const STAND_IN = fileURLToPath(new URL('../dist/stand-in-agent/main.js', import.meta.url));
const runtime = detectAgentRuntime('/usr/bin/python3', AGENT_DIR);
const fastapi = requireTool('the real FastAPI agent', {
  probe: () => (runtime.kind === 'fastapi' ? undefined : runtime.reason),
  install: runtime.kind === 'fastapi' ? '' : (runtime.installHint ?? INSTALL_HINT),
});
const started: { process: ManagedProcess; dir: string }[] = [];

beforeAll(() => {
  if (!existsSync(STAND_IN)) throw new Error('packages/pod-runner/dist is missing: run `pnpm build` first');
});
afterEach(async () => {
  for (const { process: child, dir } of started.splice(0)) {
    await child.stop('SIGTERM', 5_000);
    rmSync(dir, { recursive: true, force: true });
  }
});

interface Observed {
  /** Keys of the JSON request-log lines, and the first line of the failing request. */
  readonly okKeys: string[];
  readonly errorKeys: string[];
  readonly traceback: boolean;
  /** `agent_*` sample names with their label names, e.g. `agent_requests_total{method,path,status}`. */
  readonly series: string[];
  readonly exitCode: number | null;
}

async function observe(kind: 'stand-in' | 'fastapi'): Promise<Observed> {
  const dir = mkdtempSync(join(tmpdir(), `agent-${kind}-`));
  const port = await freePort();
  const logFile = join(dir, 'requests.log');
  const hostPort = ['--host', '127.0.0.1', '--port', String(port)];
  const env = { PATH: process.env.PATH, LOG_FILE: logFile };
  const child = new ManagedProcess(
    kind === 'stand-in'
      ? { name: kind, command: process.execPath, args: [STAND_IN, ...hostPort], env }
      : {
          name: kind,
          command: '/usr/bin/python3',
          args: ['-m', 'uvicorn', 'app:app', ...hostPort],
          cwd: AGENT_DIR,
          env,
        },
  );
  started.push({ process: child, dir });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(
    `${kind} to answer /healthz`,
    async () => ((await probePasses(`${base}/healthz`)) ? true : undefined),
    {
      timeoutMs: 15_000,
    },
  );
  const client = new AgentClient(base);
  expect((await client.inference('ok-1', 'a good day')).status).toBe(200);
  expect((await client.inference('fail-1', 'boom', true)).status).toBe(500);
  client.close();
  // Prometheus' Accept: OpenMetrics first, as the metrics-sidecar asks.
  const { body } = await httpGet(`${base}/metrics`, 2_000, {
    Accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5',
  });
  const stop = await child.stop('SIGTERM', 5_000);
  const lines = readFileSync(logFile, 'utf8').split('\n');
  const ok = JSON.parse(lines.find((line) => line.includes('"ok-1"'))!) as Record<string, unknown>;
  const errorIndex = lines.findIndex((line) => line.includes('"status":500'));
  const error = JSON.parse(lines[errorIndex]!) as Record<string, unknown>;
  const series = new Set<string>();
  for (const line of body.split('\n')) {
    const match = /^(agent_[a-z_]+?)(?:\{([^}]*)\})? /.exec(line);
    if (!match || match[1]!.endsWith('_created')) continue;
    const labels = [...(match[2] ?? '').matchAll(/([a-z_]+)="/g)].map((m) => m[1]).sort();
    series.add(`${match[1]}{${labels.join(',')}}`);
  }
  return {
    okKeys: Object.keys(ok).sort(),
    errorKeys: Object.keys(error).sort(),
    traceback: (lines[errorIndex + 1] ?? '').length > 0 && !lines[errorIndex + 1]!.startsWith('{'),
    series: [...series].sort(),
    exitCode: stop.exit.code,
  };
}

describe('the Node stand-in agent', () => {
  it('writes request-log lines and serves agent_* metrics of the documented shape, and exits 0 on SIGTERM', async () => {
    const standIn = await observe('stand-in');
    expect(standIn.okKeys).toEqual(['latency_ms', 'level', 'method', 'path', 'request_id', 'status', 'ts']);
    expect(standIn.errorKeys).toEqual([...standIn.okKeys, 'error'].sort());
    expect(standIn.traceback).toBe(true);
    expect(standIn.series).toEqual(
      expect.arrayContaining([
        'agent_requests_total{method,path,status}',
        'agent_request_duration_seconds_bucket{le,method,path}',
      ]),
    );
    expect(standIn.exitCode).toBe(0);
  });

  it.skipIf(!fastapi.available)(
    'has the same log line fields and agent_* series as the real FastAPI agent',
    async () => {
      const [standIn, real] = [await observe('stand-in'), await observe('fastapi')];
      expect(standIn).toEqual(real);
    },
  );
});
