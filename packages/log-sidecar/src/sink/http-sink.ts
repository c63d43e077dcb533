import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import { gzip as gzipCallback, constants as zlibConstants } from 'node:zlib';
import { describeTransportError, parseRetryAfter } from '@agent-sidecars/shared';
import { classifyStatus } from '../delivery/retry-policy.js';
import type { LogRecord } from '../record.js';
import { BufferPool } from './buffer-pool.js';
import { CredentialFile, redact } from './credential-file.js';
import type { SendResult, Sink } from './sink.js';
import type { WireFormat } from './wire-format.js';

const gzip = promisify(gzipCallback);

export interface HttpSinkOptions {
  readonly name: string;
  readonly url: URL;
  readonly format: WireFormat;
  readonly gzip: boolean;
  readonly headers: readonly (readonly [string, string])[];
  readonly tokenFile?: string | undefined;
  readonly basicAuthFile?: string | undefined;
  /** Headers whose value is a file's content (a mounted Secret), re-read when it changes, never logged. */
  readonly headerFiles?: readonly (readonly [name: string, path: string])[];
  /** PEM text of the CA certificates to trust (read by the factory at startup). */
  readonly ca?: string | undefined;
  readonly requestTimeoutMs: number;
  /** Loki's X-Scope-OrgID. */
  readonly tenant?: string | undefined;
  /** Connections kept to the backend: the driver's maxInFlight. */
  readonly connections: number;
}

/** A body larger than this is not kept for the next batch (a few batches of `--batch-max-bytes`). */
const POOLED_BODY_MAX_BYTES = 64 * 1024 * 1024;

/** How much of an error answer's body goes into the reason (and so into the log line). */
const ERROR_BODY_LIMIT = 512;

/**
 * POSTs batches over one keep-alive node:http Agent per sink (not undici: its WebAssembly HTTP parser
 * costs ~20 MiB of RSS, a third of the sidecar's idle memory; see docs/benchmarks.md). It never retries or sleeps: it turns each
 * answer into a SendResult and leaves the rest to the delivery driver. Credentials come from a file,
 * re-read when it changes; they are redacted from every reason this returns.
 */
export class HttpSink implements Sink {
  readonly name: string;
  private readonly agent: HttpAgent;
  private readonly request: typeof httpRequest;
  private readonly path: string;
  private readonly origin: URL;
  private readonly baseHeaders: Record<string, string>;
  private readonly credential: CredentialFile | undefined;
  private readonly headerFiles: readonly (readonly [string, CredentialFile])[];
  /** Uncompressed bodies, used again once their request is over (see BufferPool for why). */
  private readonly bodies: BufferPool;

  constructor(private readonly options: HttpSinkOptions) {
    this.name = options.name;
    // One body per request in flight and one being encoded.
    this.bodies = new BufferPool(Math.max(1, options.connections) + 1, POOLED_BODY_MAX_BYTES);
    const url = options.url;
    this.path = `${url.pathname}${url.search}`;
    this.origin = url;
    // One connection per request in flight, kept alive between batches; the whole exchange (connect,
    // headers, body) is bounded by the request timeout's signal in send().
    const agentOptions = {
      keepAlive: true,
      maxSockets: Math.max(1, options.connections),
      scheduling: 'lifo' as const,
    };
    if (url.protocol === 'https:') {
      this.agent = new HttpsAgent({
        ...agentOptions,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        rejectUnauthorized: true,
      });
      this.request = httpsRequest as typeof httpRequest;
    } else {
      this.agent = new HttpAgent(agentOptions);
      this.request = httpRequest;
    }
    const headers: Record<string, string> = {
      'content-type': options.format.contentType,
      'user-agent': 'agent-sidecars-log-sidecar',
    };
    if (options.gzip) headers['content-encoding'] = 'gzip';
    if (options.tenant !== undefined) headers['x-scope-orgid'] = options.tenant;
    for (const [name, value] of options.headers) headers[name.toLowerCase()] = value;
    this.baseHeaders = headers;
    if (options.tokenFile !== undefined) this.credential = new CredentialFile(options.tokenFile, 'bearer');
    else if (options.basicAuthFile !== undefined)
      this.credential = new CredentialFile(options.basicAuthFile, 'basic');
    this.headerFiles = (options.headerFiles ?? []).map(
      ([name, path]) => [name.toLowerCase(), new CredentialFile(path, 'header')] as const,
    );
  }

  async send(records: readonly LogRecord[], signal: AbortSignal): Promise<SendResult> {
    const headers = { ...this.baseHeaders };
    let secret: string | undefined;
    if (this.credential) {
      const credential = await this.credential.current();
      // A missing Secret is usually one not mounted yet: worth waiting for rather than losing records.
      if (!credential.ok) return { outcome: 'retryable', reason: credential.reason };
      headers.authorization = credential.authorization;
      secret = credential.secret;
    }
    const secrets = secret === undefined ? [] : [secret];
    for (const [name, file] of this.headerFiles) {
      const value = await file.current();
      // Like the token file: a Secret not mounted yet is waited for, never sent without.
      if (!value.ok) return { outcome: 'retryable', reason: redact(value.reason, secrets) };
      headers[name] = value.authorization;
      secrets.push(value.secret);
    }
    const encoded = this.options.format.encode(records, this.bodies);
    let body: Buffer;
    // The pooled buffer that goes on the wire as it is, given back once the request is over.
    let pooled: Buffer | undefined;
    if (this.options.gzip) {
      body = await gzip(encoded, { level: zlibConstants.Z_BEST_SPEED });
      // zlib has read all of it once the promise resolves.
      if (typeof encoded !== 'string') this.bodies.give(encoded);
    } else if (typeof encoded === 'string') {
      body = Buffer.from(encoded, 'utf8');
    } else {
      body = encoded;
      pooled = encoded;
    }
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs);
    const combined = AbortSignal.any([signal, timeout]);
    try {
      headers['content-length'] = String(body.length);
      const response = await this.post(headers, body, combined, pooled);
      const status = response.statusCode ?? 0;
      const kind = classifyStatus(status);
      if (kind === 'delivered') {
        if (this.options.format.readAccepted === undefined) {
          await drain(response);
          return { outcome: 'delivered', status, bytes: body.length };
        }
        const answer = await text(response);
        const result = this.options.format.readAccepted(answer, records);
        return result.outcome === 'delivered' || result.outcome === 'partial'
          ? { ...result, status, bytes: body.length }
          : result;
      }
      const detail = await readSome(response);
      const reason = redact(`HTTP ${status}${detail === '' ? '' : `: ${detail}`}`, secrets);
      if (kind === 'too-large') return { outcome: 'too-large', status, reason };
      if (kind === 'retryable') {
        const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
        return {
          outcome: 'retryable',
          status,
          reason,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        };
      }
      if ((status === 401 || status === 403) && (await this.credentialsChanged(secret, headers))) {
        // The Secret was rotated while this request was in the air: send again with the new one.
        return { outcome: 'retryable', status, reason: `${reason} (credentials changed since; retrying)` };
      }
      return { outcome: 'rejected', status, reason };
    } catch (error) {
      const why =
        timeout.aborted && !signal.aborted
          ? `no answer within ${this.options.requestTimeoutMs} ms`
          : describeTransportError(error);
      return { outcome: 'retryable', reason: redact(why, secrets) };
    }
  }

  async close(): Promise<void> {
    // Called once no request is in flight: only idle keep-alive sockets are left.
    this.agent.destroy();
    this.bodies.clear();
  }

  /**
   * One POST; resolves with the response once its headers are in (the body is read by the caller).
   * `pooled` (the body) goes back to the pool when the request closes after every byte of it was handed
   * to the socket; a request that ended otherwise (aborted, socket error mid-write) leaves it to the
   * garbage collector, so a write still queued can never see its bytes change.
   */
  private post(
    headers: Record<string, string>,
    body: Buffer,
    signal: AbortSignal,
    pooled: Buffer | undefined,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = this.request(
        {
          protocol: this.origin.protocol,
          hostname: this.origin.hostname.replace(/^\[|\]$/g, ''),
          port: this.origin.port,
          method: 'POST',
          path: this.path,
          headers,
          agent: this.agent,
          signal,
        },
        resolve,
      );
      req.on('error', reject);
      if (pooled !== undefined) {
        req.once('close', () => {
          if (req.writableFinished) this.bodies.give(pooled);
        });
      }
      req.end(body);
    });
  }

  /** Whether a token or header file now holds another value than the one this request carried. */
  private async credentialsChanged(used: string | undefined, sent: Record<string, string>): Promise<boolean> {
    if (this.credential) {
      this.credential.invalidate();
      const now = await this.credential.current();
      if (now.ok && now.secret !== used) return true;
    }
    for (const [name, file] of this.headerFiles) {
      file.invalidate();
      const now = await file.current();
      if (now.ok && now.authorization !== sent[name]) return true;
    }
    return false;
  }
}

/** Reads and discards the answer, so that its connection goes back to the agent. */
function drain(response: IncomingMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    response.on('error', reject);
    response.on('end', resolve);
    response.resume();
  });
}

/** The whole answer as UTF-8 text (an abort of the request's signal ends it with an error). */
function text(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('error', reject);
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

async function readSome(response: IncomingMessage): Promise<string> {
  try {
    const answer = await text(response);
    return answer.replace(/\s+/g, ' ').trim().slice(0, ERROR_BODY_LIMIT);
  } catch {
    return '';
  }
}
