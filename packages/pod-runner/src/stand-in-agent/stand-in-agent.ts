import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { RotatingLogFile } from '../rotating-log-file.js';

/**
 * The Node stand-in for the example FastAPI agent (examples/agent/app.py), used when python3 lacks
 * fastapi, uvicorn or prometheus_client: the same routes, the same JSON request-log lines rotated the same
 * way, the same `agent_*` metrics, so both sidecars see what they would see with the real agent.
 */
export interface StandInAgentOptions {
  readonly log: RotatingLogFile;
  readonly now?: () => Date;
  /** $AGENT_INSTANCE, echoed by /healthz so a runner can tell its own agent from a foreign process. */
  readonly instance?: string | undefined;
}

// Probes and scrapes would bury the requests that matter; the real agent does not log them either.
const UNLOGGED_PATHS = new Set(['/healthz', '/metrics']);
const POSITIVE = new Set(['good', 'great', 'happy', 'fast', 'love', 'excellent', 'nice']);
const NEGATIVE = new Set(['bad', 'slow', 'sad', 'hate', 'broken', 'awful', 'error']);
const BODY_LIMIT = 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

export class StandInAgent {
  readonly server: Server;
  readonly registry = new Registry();
  readonly #requests: Counter<'path' | 'method' | 'status'>;
  readonly #latency: Histogram<'path' | 'method'>;
  readonly #options: StandInAgentOptions;

  constructor(options: StandInAgentOptions) {
    this.#options = options;
    collectDefaultMetrics({ register: this.registry });
    this.#requests = new Counter({
      name: 'agent_requests_total',
      help: 'HTTP requests handled by the agent, by route, method and status code.',
      labelNames: ['path', 'method', 'status'],
      registers: [this.registry],
    });
    this.#latency = new Histogram({
      name: 'agent_request_duration_seconds',
      help: 'Time the agent took to answer an HTTP request, by route and method.',
      labelNames: ['path', 'method'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
      registers: [this.registry],
    });
    this.server = createServer((req, res) => void this.#handle(req, res));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const header = req.headers['x-request-id'];
    const requestId = (Array.isArray(header) ? header[0] : header) || randomUUID().replaceAll('-', '');
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?', 1)[0]!;
    let route = 'unmatched';
    let status = 500;
    let error: Error | undefined;
    try {
      const answer = await this.#route(method, path, req, (matched) => {
        route = matched;
      });
      status = answer.status;
      res.writeHead(status, { 'Content-Type': answer.type, 'X-Request-Id': requestId });
      res.end(answer.body);
    } catch (caught) {
      if (caught instanceof HttpError) {
        status = caught.status;
      } else {
        error = caught instanceof Error ? caught : new Error(String(caught));
        status = 500;
      }
      const body =
        caught instanceof HttpError ? caught.body : { error: 'internal error', request_id: requestId };
      res.writeHead(status, { 'Content-Type': 'application/json', 'X-Request-Id': requestId });
      res.end(JSON.stringify(body));
    }
    const elapsed = (performance.now() - started) / 1000;
    this.#requests.labels(route, method, String(status)).inc();
    this.#latency.labels(route, method).observe(elapsed);
    if (error === undefined && UNLOGGED_PATHS.has(path)) return;
    this.#logRequest(
      {
        request_id: requestId,
        method,
        path,
        status,
        latency_ms: Math.round(elapsed * 1_000_000) / 1000,
        ...(error ? { error: `${error.name}: ${error.message}` } : {}),
      },
      error,
    );
  }

  async #route(
    method: string,
    path: string,
    req: IncomingMessage,
    matched: (route: string) => void,
  ): Promise<{ status: number; type: string; body: string }> {
    const json = (body: unknown) => ({ status: 200, type: 'application/json', body: JSON.stringify(body) });
    const only = (allowed: string) => {
      matched(path);
      if (method !== allowed) throw new HttpError(405, { detail: 'Method Not Allowed' });
    };
    switch (path) {
      case '/healthz':
        only('GET');
        return json(
          this.#options.instance ? { status: 'ok', instance: this.#options.instance } : { status: 'ok' },
        );
      case '/inference': {
        only('POST');
        const input = parseInference(await readBody(req));
        if (input.fail) throw runtimeError(`inference failed on purpose for input '${input.input}'`);
        const words = input.input.toLowerCase().split(/\s+/).filter(Boolean);
        const score =
          words.filter((word) => POSITIVE.has(word)).length -
          words.filter((word) => NEGATIVE.has(word)).length;
        const prediction = score > 0 ? 'positive' : score < 0 ? 'negative' : 'neutral';
        return json({ prediction, score, tokens: words.length });
      }
      case '/error':
        only('GET');
        throw new TypeError('the /error endpoint always fails');
      case '/metrics':
        only('GET');
        return { status: 200, type: this.registry.contentType, body: await this.registry.metrics() };
      default:
        throw new HttpError(404, { detail: 'Not Found' });
    }
  }

  #logRequest(fields: Record<string, unknown>, error: Error | undefined): void {
    const entry = {
      ts: (this.#options.now?.() ?? new Date()).toISOString().replace('Z', '+00:00'),
      level: error ? 'error' : 'info',
      ...fields,
    };
    let text = `${JSON.stringify(entry)}\n`;
    // Like the real agent, a traceback follows its JSON line on lines of its own, in Python's shape.
    if (error) text += `${pythonShapedTraceback(error)}\n`;
    this.#options.log.write(text);
  }
}

/**
 * A JavaScript error printed the way Python prints a traceback (header, indented frames, most recent
 * call last, then `Type: message`), so `--multiline python` joins it exactly as it joins the real
 * agent's and the record looks the same whichever agent the demo runs.
 */
export function pythonShapedTraceback(error: Error): string {
  const frames = (error.stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .map((line) => `  ${line.trim()}`)
    .reverse();
  return ['Traceback (most recent call last):', ...frames, `${error.name}: ${error.message}`].join('\n');
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) throw new HttpError(413, { detail: 'Request body too large' });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** An Error named as the real agent's Python exception is. */
function runtimeError(message: string): Error {
  const error = new Error(message);
  error.name = 'RuntimeError';
  return error;
}

/** FastAPI's validation, reduced to this one model: `{"input": str, "fail": bool = false}`. */
function parseInference(text: string): { input: string; fail: boolean } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(422, {
      detail: [{ loc: ['body'], msg: 'the body is not valid JSON', type: 'value_error' }],
    });
  }
  const { input, fail = false } = (typeof body === 'object' && body !== null ? body : {}) as Record<
    string,
    unknown
  >;
  if (typeof input !== 'string') {
    throw new HttpError(422, {
      detail: [{ loc: ['body', 'input'], msg: 'field required (a string)', type: 'value_error' }],
    });
  }
  if (typeof fail !== 'boolean') {
    throw new HttpError(422, {
      detail: [{ loc: ['body', 'fail'], msg: 'value is not a valid boolean', type: 'type_error' }],
    });
  }
  return { input, fail };
}
