import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTool, waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { detectAgentRuntime, INSTALL_HINT } from '../src/agent-runtime.js';
import { blameForMissingLines, errorRecordProblem, proveOwnAgent } from '../src/demo.js';
import { AGENT_DIR } from '../src/local-pod.js';
import { ManagedProcess } from '../src/managed-process.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const runtime = detectAgentRuntime('/usr/bin/python3', AGENT_DIR);
const fastapi = requireTool('the real FastAPI agent', {
  probe: () => (runtime.kind === 'fastapi' ? undefined : runtime.reason),
  install: runtime.kind === 'fastapi' ? '' : (runtime.installHint ?? INSTALL_HINT),
});
const runs: { demo: ManagedProcess; dir: string }[] = [];

beforeAll(() => {
  const missing = ['packages/log-sidecar', 'packages/metrics-sidecar', 'packages/pod-runner']
    .map((pkg) => fileURLToPath(new URL(`../../../${pkg}/dist/main.js`, import.meta.url)))
    .filter((path) => !existsSync(path));
  if (missing.length > 0) throw new Error(`${missing.join(', ')} missing: run \`pnpm build\` first`);
});
afterEach(async () => {
  for (const { demo, dir } of runs.splice(0)) {
    await demo.stop('SIGKILL', 1_000);
    rmSync(dir, { recursive: true, force: true });
  }
});

function demo(...args: string[]): { demo: ManagedProcess; lines: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'demo-'));
  const lines: string[] = [];
  const run = new ManagedProcess(
    {
      name: 'demo',
      command: process.execPath,
      args: [MAIN, '--dir', dir, '--requests', '5', '--scrape-interval', '500ms', ...args],
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' },
    },
    (_stream, text) => lines.push(text),
  );
  runs.push({ demo: run, dir });
  return { demo: run, lines };
}

/** The order in which the runner signalled the containers, from its `pod | <name>: signalled` lines. */
function signalled(lines: readonly string[]): string[] {
  return lines.flatMap((line) => /^pod\s+\| ([a-z-]+): signalled/.exec(line)?.[1] ?? []);
}

function childPids(lines: readonly string[]): number[] {
  return lines.flatMap((line) => {
    const pid = /: started \(pid (\d+)\)/.exec(line)?.[1];
    return pid ? [Number(pid)] : [];
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Each run is a whole demo (three processes, the scripted traffic, the kubelet's stop): on a shared 2-core
// machine that takes 15-60 s, past the suite's default 30 s.
describe('pnpm demo (the pod-runner)', { timeout: 120_000 }, () => {
  it.skipIf(!fastapi.available)(
    'runs the scripted scenario with the FastAPI agent, shows records and :9090 metrics, stops the Pod in the kubelet order, exits 0',
    async () => {
      const { demo: run, lines } = demo();
      const exit = await run.exited;
      expect(exit.code, lines.join('\n')).toBe(0);
      const text = lines.join('\n');
      expect(text).toContain('agent: the FastAPI example agent');
      expect(text).toMatch(/^log-sidecar\s+\| shipped \[requests\.log /m);
      expect(text).toMatch(/^metrics-sidecar\|\s+agent_requests_total\{.*path="\/inference".*\} 5/m);
      expect(signalled(lines)).toEqual(['agent', 'metrics-sidecar', 'log-sidecar']);
      expect(text).toMatch(/done: \d+ records shipped, every container exited 0/);
      expect(text).toMatch(
        /the failing request's record keeps its JSON line: request_id=demo-\w+-fail level=error time=\S+ \(the agent's ts\), and its \d+-line traceback in fields\.exc_info, ending "RuntimeError: inference failed on purpose for input 'this one breaks'"/,
      );
    },
  );

  it('falls back to the Node stand-in agent when python3 lacks the modules, printing how to install them', async () => {
    const { demo: run, lines } = demo('--python', '/nonexistent/python3');
    const exit = await run.exited;
    expect(exit.code, lines.join('\n')).toBe(0);
    const text = lines.join('\n');
    expect(text).toContain('the Node stand-in agent');
    expect(text).toContain(INSTALL_HINT);
    expect(INSTALL_HINT).toBe(
      'sudo apt-get install python3-fastapi python3-uvicorn python3-prometheus-client',
    );
    expect(signalled(lines)).toEqual(['agent', 'metrics-sidecar', 'log-sidecar']);
    expect(text).toMatch(
      /the failing request's record keeps its JSON line: request_id=demo-\w+-fail level=error/,
    );
  });

  it('stays up with --keep-running until Ctrl-C, then terminates the Pod in order and leaves no process behind', async () => {
    const { demo: run, lines } = demo('--keep-running');
    await run.waitForLine('the keep-running prompt', (text) => text.includes('press Ctrl-C'), 30_000);
    const pids = childPids(lines);
    expect(pids).toHaveLength(3);
    expect(pids.every(alive)).toBe(true);

    run.signal('SIGINT');

    const exit = await run.exited;
    expect(exit.code, lines.join('\n')).toBe(0);
    expect(signalled(lines)).toEqual(['agent', 'metrics-sidecar', 'log-sidecar']);
    await waitFor('every Pod process to be gone', () => (pids.some(alive) ? undefined : true), {
      timeoutMs: 5_000,
    });
  });

  it('picks a free port when :8000 is taken, proves it reaches its own agent and shows figures taken after the last acknowledgement', async () => {
    // Another process on the agent's usual port (held by this test unless something else holds it already).
    const squatter = createServer();
    await new Promise<void>((resolve) => {
      squatter.once('error', () => resolve());
      squatter.listen(8000, '127.0.0.1', () => resolve());
    });
    try {
      const { demo: run, lines } = demo('--python', '/nonexistent/python3');
      const exit = await run.exited;
      const text = lines.join('\n');
      expect(exit.code, text).toBe(0);
      const agentPort = Number(/ports: .*agent :(\d+)/.exec(text)?.[1]);
      expect(agentPort).not.toBe(8000);
      expect(text).toContain(`the agent on :${agentPort} echoed this run's token on /healthz`);
      const shipped = Number(/the log-sidecar shipped all (\d+) request lines/.exec(text)?.[1]);
      const delivered = lines
        .filter((line) => /^log-sidecar\s*\|\s+log_sidecar_records_delivered_total/.test(line))
        .map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
      expect(delivered.length).toBeGreaterThan(0);
      expect(delivered.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(shipped);
      // The merged :9090 copy of the log-sidecar's counters is a scrape old: not shown.
      expect(text).not.toMatch(/^metrics-sidecar\|\s+log_sidecar_records_delivered_total/m);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('refuses an --agent-port another process holds, naming the option', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', () => resolve()));
    const port = (squatter.address() as { port: number }).port;
    try {
      const { demo: run, lines } = demo('--agent-port', String(port));
      const exit = await run.exited;
      expect(exit.code).toBe(2);
      expect(lines.join('\n')).toContain(
        `--agent-port ${port}: the port is in use by another process; choose another, or leave --agent-port out for a free one.`,
      );
      expect(lines.join('\n')).not.toContain('started (pid');
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});

describe('the demo names the component at fault from evidence', () => {
  it("says what the failing request's record lacks: fields, the agent's ts, the traceback field", () => {
    const fields = {
      ts: '2026-11-22T10:00:00.123+00:00',
      level: 'error',
      request_id: 'r1',
      error: 'RuntimeError: boom',
      exc_info:
        'Traceback (most recent call last):\n  File "app.py", line 1, in <module>\nRuntimeError: boom',
    };
    const good = { id: 'k:0', time: '2026-11-22T10:00:00.123Z', fields };
    expect(errorRecordProblem(good)).toBeUndefined();
    expect(errorRecordProblem(undefined)).toBe('was not shipped');
    expect(errorRecordProblem({ id: 'k:0', message: '{"ts":1}\nTraceback' })).toMatch(/as text/);
    expect(errorRecordProblem({ ...good, time: '2026-12-01T09:00:00.000Z' })).toMatch(/not the agent's ts/);
    expect(errorRecordProblem({ ...good, fields: { ...fields, exc_info: undefined } })).toBe(
      'has no traceback in fields.exc_info',
    );
    expect(errorRecordProblem({ ...good, fields: { ...fields, error: 'KeyError: x' } })).toMatch(
      /does not end in its error/,
    );
  });

  it('says the process on the agent port is not its agent when /healthz lacks the run token', async () => {
    const foreign = createHttpServer((_req, res) => res.end('{"status":"ok"}'));
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', () => resolve()));
    const port = (foreign.address() as { port: number }).port;
    try {
      await expect(proveOwnAgent(`http://127.0.0.1:${port}`, port, 'token-1')).rejects.toThrow(
        `the process answering on :${port} is not this demo's agent (its /healthz answered 200 without this run's token): another process took the port; choose one with --agent-port`,
      );
    } finally {
      await new Promise((resolve) => foreign.close(resolve));
    }
  });

  it('blames the agent when it wrote none of the run lines, the log-sidecar when it wrote them all', () => {
    const dir = mkdtempSync(join(tmpdir(), 'demo-blame-'));
    try {
      expect(blameForMissingLines(dir, 'demo-x-', 21, 0)).toMatch(
        /^the agent wrote 0 lines of this run to requests\.log/,
      );
      writeFileSync(join(dir, 'requests.log'), 'demo-x-001\n'.repeat(20));
      writeFileSync(join(dir, 'requests.log.1'), 'demo-x-021\nother\n');
      expect(blameForMissingLines(dir, 'demo-x-', 21, 3)).toMatch(
        /^the agent wrote all 21 lines of this run to requests\.log, but the log-sidecar shipped 3 of them/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
