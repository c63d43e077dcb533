// The example agent, run for real under /usr/bin/python3 (Debian's python3-fastapi, python3-uvicorn and
// python3-prometheus-client): real requests on a free port, the real log file, a real rotation, SIGTERM.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, pythonModulesProbe, requireTool, waitFor } from '@agent-sidecars/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PYTHON = '/usr/bin/python3';
const AGENT_DIR = fileURLToPath(new URL('../../examples/agent/', import.meta.url));
const MAX_BYTES = 4096;

const skipReason = requireTool('python3 with fastapi, uvicorn and prometheus_client', {
  probe: pythonModulesProbe(PYTHON, ['fastapi', 'uvicorn', 'prometheus_client']),
  install: 'apt-get install python3-fastapi python3-uvicorn python3-prometheus-client',
}).missing;

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

interface LogLine {
  ts: string;
  level: string;
  request_id: string;
  method: string;
  path: string;
  status: number;
  latency_ms: number;
  error?: string;
}

describe.skipIf(skipReason !== undefined)('example agent', () => {
  let dir: string;
  let logFile: string;
  let base: string;
  let agent: ChildProcess;
  let stderr = '';

  const readLog = (file = logFile): string => readFileSync(file, 'utf8');
  const jsonLines = (text: string): LogLine[] =>
    text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
  // Oldest first: requests.log.N ... requests.log.1, then requests.log. One record (a line and its
  // traceback) is written by one emit, so it is never split across two files.
  const rotationIndex = (name: string): number => Number(name.slice('requests.log.'.length) || 0);
  const allLogText = (): string =>
    readdirSync(dir)
      .filter((name) => name.startsWith('requests.log'))
      .sort((a, b) => rotationIndex(b) - rotationIndex(a))
      .map((name) => readLog(join(dir, name)))
      .join('');

  const infer = (input: string, extra: Record<string, unknown> = {}, requestId?: string) =>
    fetch(`${base}/inference`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(requestId ? { 'x-request-id': requestId } : {}) },
      body: JSON.stringify({ input, ...extra }),
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-test-'));
    logFile = join(dir, 'requests.log');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    agent = spawn(PYTHON, ['-m', 'uvicorn', 'app:app', '--host', '127.0.0.1', '--port', String(port)], {
      cwd: AGENT_DIR,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        PYTHONDONTWRITEBYTECODE: '1',
        LOG_FILE: logFile,
        LOG_MAX_BYTES: String(MAX_BYTES),
        LOG_BACKUP_COUNT: '5',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    agent.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await waitFor(`the agent to answer /healthz (stderr: ${stderr})`, async () => {
      if (agent.exitCode !== null) throw new Error(`agent exited ${agent.exitCode}: ${stderr}`);
      const res = await fetch(`${base}/healthz`);
      return res.ok ? true : undefined;
    });
  });

  afterAll(async () => {
    if (agent && agent.exitCode === null && agent.signalCode === null) {
      agent.kill('SIGKILL');
      await exitOf(agent);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers an inference and logs one JSON line with the documented fields', async () => {
    const res = await infer('a great and happy day', {}, 'req-shape-1');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-shape-1');
    expect(await res.json()).toEqual({ prediction: 'positive', score: 2, tokens: 5 });

    const line = await waitFor('the request line', async () =>
      jsonLines(readLog()).find((entry) => entry.request_id === 'req-shape-1'),
    );
    expect(Object.keys(line).sort()).toEqual(
      ['latency_ms', 'level', 'method', 'path', 'request_id', 'status', 'ts'].sort(),
    );
    expect(line).toMatchObject({ level: 'info', method: 'POST', path: '/inference', status: 200 });
    expect(line.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
    expect(Number.isNaN(Date.parse(line.ts))).toBe(false);
    expect(typeof line.latency_ms).toBe('number');
    expect(line.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it('gives a request without X-Request-ID a fresh id, and never logs probes or scrapes', async () => {
    const res = await infer('plain words');
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    await fetch(`${base}/healthz`);
    await fetch(`${base}/metrics`);
    const lines = await waitFor('the request line', async () => {
      const all = jsonLines(readLog());
      return all.some((entry) => entry.request_id === id) ? all : undefined;
    });
    expect(lines.some((entry) => entry.path === '/healthz' || entry.path === '/metrics')).toBe(false);
  });

  it('logs an unhandled error as an error line followed by its Python traceback, and answers 500', async () => {
    const res = await infer('boom', { fail: true }, 'req-fail-1');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'internal error', request_id: 'req-fail-1' });
    const viaGet = await fetch(`${base}/error`, { headers: { 'x-request-id': 'req-fail-2' } });
    expect(viaGet.status).toBe(500);

    // The line is written once the response is on its way, so the client can be a moment ahead of it.
    const text = await waitFor('both error lines', async () => {
      const all = allLogText();
      return all.includes('"req-fail-1"') && all.includes('"req-fail-2"') ? all : undefined;
    });
    for (const [id, exception] of [
      ['req-fail-1', "RuntimeError: inference failed on purpose for input 'boom'"],
      ['req-fail-2', 'ValueError: the /error endpoint always fails'],
    ] as const) {
      const lines = text.split('\n');
      const at = lines.findIndex((l) => l.startsWith('{') && (JSON.parse(l) as LogLine).request_id === id);
      expect(at, `no line for ${id}`).toBeGreaterThanOrEqual(0);
      expect(JSON.parse(lines[at]!)).toMatchObject({ level: 'error', status: 500, error: exception });
      expect(lines[at + 1]).toBe('Traceback (most recent call last):');
      const end = lines.findIndex((l, i) => i > at && l === exception);
      expect(end, `traceback of ${id} does not end with ${exception}`).toBeGreaterThan(at + 1);
      // Between the header and the exception only indented frames: what --multiline python joins.
      for (const frame of lines.slice(at + 2, end)) expect(frame).toMatch(/^\s/);
    }
  });

  it('serves the request counter and latency histogram in both exposition formats', async () => {
    const before = await (await fetch(`${base}/metrics`)).text();
    const count = (text: string, series: string): number => {
      const match = text.split('\n').find((l) => l.startsWith(`${series} `));
      return match ? Number(match.split(' ')[1]) : 0;
    };
    const okSeries = 'agent_requests_total{method="POST",path="/inference",status="200"}';
    const histSeries = 'agent_request_duration_seconds_count{method="POST",path="/inference"}';
    for (let i = 0; i < 3; i += 1) expect((await infer('fast')).status).toBe(200);
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const after = await res.text();
    expect(count(after, okSeries) - count(before, okSeries)).toBe(3);
    expect(count(after, histSeries) - count(before, histSeries)).toBe(3);
    expect(after).toContain('# TYPE agent_requests_total counter');
    expect(after).toContain('# TYPE agent_request_duration_seconds histogram');
    expect(after).toMatch(
      /agent_request_duration_seconds_bucket\{le="\+Inf",method="POST",path="\/inference"\}/,
    );
    // An unknown path is one series, not one per URL.
    await fetch(`${base}/no/such/path/${Date.now()}`);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain(
      'agent_requests_total{method="GET",path="unmatched",status="404"}',
    );

    const om = await fetch(`${base}/metrics`, {
      headers: { accept: 'application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5' },
    });
    expect(om.headers.get('content-type')).toMatch(/^application\/openmetrics-text/);
    expect((await om.text()).trimEnd().endsWith('# EOF')).toBe(true);
  });

  it('rotates the log by size and keeps every line across the rotated files', async () => {
    const ids = Array.from({ length: 80 }, (_, i) => `rot-${i}`);
    for (const id of ids) expect((await infer('rotation filler words', {}, id)).status).toBe(200);
    const files = readdirSync(dir).filter((name) => name.startsWith('requests.log'));
    expect(files).toContain('requests.log.1');
    expect(files).toContain('requests.log.2');
    for (const name of files) {
      // RotatingFileHandler rolls over before a write would pass maxBytes; a traceback record can exceed it.
      expect(readFileSync(join(dir, name)).length).toBeLessThanOrEqual(MAX_BYTES + 4096);
    }
    const missing = await waitFor('every rotation line', async () => {
      const logged = new Set(jsonLines(allLogText()).map((entry) => entry.request_id));
      const left = ids.filter((id) => !logged.has(id));
      return left.length === 0 ? left : undefined;
    });
    expect(missing).toEqual([]);
    // 80 requests, one after another, to a Python process: a shared machine can take longer than 30 s.
  }, 90_000);

  it('exits 0 on SIGTERM', async () => {
    const exited = exitOf(agent);
    agent.kill('SIGTERM');
    const result = await Promise.race([
      exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('no exit 10 s after SIGTERM')), 10_000),
      ),
    ]);
    expect(result).toEqual({ code: 0, signal: null });
    expect(stderr).toContain('Application shutdown complete');
  });
});

describe.skipIf(skipReason !== undefined)('example agent as a batch job', () => {
  it('writes BATCH_LINES lines, the last one marked, then exits 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-batch-'));
    try {
      const logFile = join(dir, 'requests.log');
      const run = spawnSync(PYTHON, ['batch.py'], {
        cwd: AGENT_DIR,
        env: { PYTHONDONTWRITEBYTECODE: '1', LOG_FILE: logFile, BATCH_LINES: '7' },
        encoding: 'utf8',
      });
      expect(run.status, run.stderr).toBe(0);
      const lines = readFileSync(logFile, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as LogLine & { seq: number; last: boolean });
      expect(lines.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(lines.filter((l) => l.last).map((l) => l.seq)).toEqual([7]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad BATCH_LINES or LOG_MAX_BYTES with a message naming the variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-batch-'));
    try {
      const env = { PYTHONDONTWRITEBYTECODE: '1', LOG_FILE: join(dir, 'requests.log') };
      const badLines = spawnSync(PYTHON, ['batch.py'], {
        cwd: AGENT_DIR,
        env: { ...env, BATCH_LINES: 'many' },
        encoding: 'utf8',
      });
      expect(badLines.status).toBe(2);
      expect(badLines.stderr).toContain("BATCH_LINES: 'many' is not a whole number");
      const badSize = spawnSync(PYTHON, ['batch.py'], {
        cwd: AGENT_DIR,
        env: { ...env, LOG_MAX_BYTES: '10MB' },
        encoding: 'utf8',
      });
      expect(badSize.status).not.toBe(0);
      expect(badSize.stderr).toContain("LOG_MAX_BYTES: '10MB' is not a whole number");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
