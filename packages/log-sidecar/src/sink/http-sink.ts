import { promisify } from 'node:util';
import { gzip as gzipCallback, constants as zlibConstants } from 'node:zlib';
import { describeTransportError, parseRetryAfter } from '@agent-sidecars/shared';
import { Pool } from 'undici';
import { classifyStatus } from '../delivery/retry-policy.js';
import type { LogRecord } from '../record.js';
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

/** How much of an error answer's body goes into the reason (and so into the log line). */
const ERROR_BODY_LIMIT = 512;

/**
 * POSTs batches over one keep-alive undici Pool per sink. It never retries or sleeps: it turns each
 * answer into a SendResult and leaves the rest to the delivery driver. Credentials come from a file,
 * re-read when it changes; they are redacted from every reason this returns.
 */
export class HttpSink implements Sink {
  readonly name: string;
  private readonly pool: Pool;
  private readonly path: string;
  private readonly baseHeaders: Record<string, string>;
  private readonly credential: CredentialFile | undefined;
  private readonly headerFiles: readonly (readonly [string, CredentialFile])[];

  constructor(private readonly options: HttpSinkOptions) {
    this.name = options.name;
    const url = options.url;
    this.path = `${url.pathname}${url.search}`;
    this.pool = new Pool(url.origin, {
      connections: Math.max(1, options.connections),
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.requestTimeoutMs,
      connect: {
        timeout: Math.min(options.requestTimeoutMs, 10_000),
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        rejectUnauthorized: true,
      },
    });
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
    const encoded = this.options.format.encode(records);
    const body = this.options.gzip
      ? await gzip(encoded, { level: zlibConstants.Z_BEST_SPEED })
      : typeof encoded === 'string'
        ? Buffer.from(encoded, 'utf8')
        : encoded;
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs);
    const combined = AbortSignal.any([signal, timeout]);
    try {
      const response = await this.pool.request({
        method: 'POST',
        path: this.path,
        headers,
        body,
        signal: combined,
      });
      const status = response.statusCode;
      const kind = classifyStatus(status);
      if (kind === 'delivered') {
        if (this.options.format.readAccepted === undefined) {
          await response.body.dump();
          return { outcome: 'delivered', status, bytes: body.length };
        }
        const answer = await response.body.text();
        const result = this.options.format.readAccepted(answer, records);
        return result.outcome === 'delivered' || result.outcome === 'partial'
          ? { ...result, status, bytes: body.length }
          : result;
      }
      const detail = await readSome(response.body);
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
    await this.pool.close().catch(() => this.pool.destroy());
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

async function readSome(body: { text(): Promise<string> }): Promise<string> {
  try {
    const text = await body.text();
    return text.replace(/\s+/g, ' ').trim().slice(0, ERROR_BODY_LIMIT);
  } catch {
    return '';
  }
}
