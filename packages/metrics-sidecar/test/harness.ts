import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import {
  commandProbe,
  HttpReceiver,
  pythonModulesProbe,
  SidecarProcess,
  type ToolProbe,
} from '@agent-sidecars/shared/testing';

export const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** For the end-to-end tests, which spawn the built binary: say how to build it rather than fail obscurely. */
export function requireBuiltSidecar(): void {
  if (!existsSync(MAIN))
    throw new Error(`${MAIN} is missing: run pnpm exec tsc -b before the end-to-end tests`);
}
export const PROMTOOL = '/usr/bin/promtool';
export const PROMETHEUS = '/usr/bin/prometheus';
export const PYTHON = '/usr/bin/python3';

export const OPENMETRICS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** Debian's prometheus package brings both binaries. */
export const PROMTOOL_PROBE: ToolProbe = {
  probe: commandProbe(PROMTOOL, ['--version']),
  install: 'apt-get install prometheus (it brings /usr/bin/promtool)',
};
export const PROMETHEUS_PROBE: ToolProbe = {
  probe: commandProbe(PROMETHEUS, ['--version']),
  install: 'apt-get install prometheus',
};
export const PYTHON_CLIENT_PROBE: ToolProbe = {
  probe: pythonModulesProbe(PYTHON, ['prometheus_client']),
  install: 'apt-get install python3 python3-prometheus-client',
};

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
  readonly #receiver = new HttpReceiver((_request, response) => {
    response.writeHead(this.status, { 'Content-Type': this.contentType });
    response.end(this.body);
  });

  /** Requests answered, to wait for scrapes without sleeping. */
  get requests(): number {
    return this.#receiver.requests.length;
  }

  async start(): Promise<string> {
    return new URL('/metrics', await this.#receiver.start()).href;
  }

  stop(): Promise<void> {
    return this.#receiver.close();
  }
}

/** The built metrics-sidecar on a free health port, its JSON log lines collected. */
export function metricsSidecar(
  args: readonly string[],
  env: Record<string, string> = {},
): SidecarProcess<string> {
  return new SidecarProcess({
    name: 'metrics-sidecar',
    main: MAIN,
    args: ['--listen', '127.0.0.1:0', ...args],
    env,
    parseRecord: (line) => line, // it writes nothing to stdout; kept as text if it ever does
  });
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
