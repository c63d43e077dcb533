import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
export const PROMTOOL = '/usr/bin/promtool';
export const PROMETHEUS = '/usr/bin/prometheus';
export const PYTHON = '/usr/bin/python3';

export const OPENMETRICS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

export function hasPythonPrometheusClient(): boolean {
  if (!existsSync(PYTHON)) return false;
  return spawnSync(PYTHON, ['-c', 'import prometheus_client'], { stdio: 'ignore' }).status === 0;
}

/** Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (${String(lastError)})` : ''}`,
  );
}

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Decompressed when the answer was gzipped. */
  readonly body: string;
  readonly rawLength: number;
}

export function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = res.headers['content-encoding'] === 'gzip' && raw.length > 0 ? gunzipSync(raw) : raw;
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: body.toString(),
          rawLength: raw.length,
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A target whose body and content type tests change at will. */
export class FakeTarget {
  body = '';
  contentType = 'text/plain; version=0.0.4; charset=utf-8';
  status = 200;
  /** Requests answered, to wait for scrapes without sleeping. */
  requests = 0;
  readonly #server: Server;

  constructor() {
    this.#server = createServer((_request, response) => {
      this.requests++;
      response.writeHead(this.status, { 'Content-Type': this.contentType });
      response.end(this.body);
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/metrics`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

/** The built metrics-sidecar, on a free port, with its JSON log lines collected. */
export class SidecarProcess {
  readonly child: ChildProcess;
  readonly logs: Record<string, unknown>[] = [];
  stderr = '';
  #port: number | undefined;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: readonly string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [MAIN, '--listen', '127.0.0.1:0', ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pending = '';
    this.child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.stderr += text;
      pending += text;
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          this.logs.push(entry);
          if (entry.msg === 'Health server listening.') this.#port = entry.port as number;
        } catch {
          // A config error is a plain line.
        }
        newline = pending.indexOf('\n');
      }
    });
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  async ready(): Promise<string> {
    const port = await waitFor('the sidecar to listen', () => this.#port);
    const base = `http://127.0.0.1:${port}`;
    await waitFor('/readyz', async () => (await get(`${base}/readyz`)).status === 200);
    return base;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/**
 * `promtool check metrics` on a text 0.0.4 body. Its linter flags three of prom-client's default Node
 * gauges (`nodejs_active_*_total`) for their `_total` suffix; those names come from prom-client, so that
 * warning alone is accepted. Anything else, and every parse error, fails.
 */
export function promtoolCheck(body: string): { ok: boolean; output: string } {
  const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: body, encoding: 'utf8' });
  const output = `${result.stdout}${result.stderr}`.trim();
  if (result.status === 0) return { ok: true, output };
  if (result.status !== 3) return { ok: false, output };
  const known =
    /^metrics_sidecar_nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;
  return { ok: output.split('\n').every((line) => known.test(line.trim())), output };
}

/** client_python's OpenMetrics parser, strict about the spec, on a body; returns the sample count. */
export function pythonOpenMetricsCheck(body: string): { ok: boolean; output: string } {
  const script =
    'import sys\nfrom prometheus_client.openmetrics.parser import text_string_to_metric_families as p\n' +
    'print(sum(len(f.samples) for f in p(sys.stdin.read())))\n';
  const result = spawnSync(PYTHON, ['-c', script], { input: body, encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}`.trim() };
}

/** A sample's value in an exposition body, by its exact series text. */
export function sampleValue(body: string, series: string): string | undefined {
  for (const line of body.split('\n')) {
    if (line.startsWith(`${series} `)) return line.slice(series.length + 1).split(' ')[0];
  }
  return undefined;
}
