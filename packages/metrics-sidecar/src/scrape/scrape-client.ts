import { isAscii } from 'node:buffer';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { pipeline, type Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import { createGunzip } from 'node:zlib';
import { describeTransportError } from '@agent-sidecars/shared';
import { SCRAPE_ACCEPT } from '../media-types.js';
import {
  createExpositionParser,
  ExpositionError,
  type ExpositionParser,
  type ExpositionParserOptions,
  type ParsedExposition,
} from './exposition-parser.js';
import type { ExpositionFormat, Snapshot } from './snapshot.js';

const GUNZIP_CHUNK = 64 * 1024 - 64;
/** Bytes parsed at a time (see #scrape): a body is held at most this much ahead of its parse. */
const PIECE = 1024 * 1024;

/** Why a scrape failed; each is a value of `metrics_sidecar_scrape_failures_total{reason}`. */
export const FAILURE_REASONS = [
  'timeout',
  'connect',
  'status',
  'parse',
  'body_limit',
  'sample_limit',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export type ScrapeResult =
  | { readonly ok: true; readonly snapshot: Snapshot }
  | {
      readonly ok: false;
      readonly reason: FailureReason;
      readonly message: string;
      /** The body line that failed parsing, when there is one. */
      readonly line?: number;
    };

export interface ScrapeClientOptions {
  readonly target: string;
  readonly url: URL;
  readonly timeoutMs: number;
  /** Limit on the decompressed body, enforced while it streams in. */
  readonly bodyLimit: number;
  readonly sampleLimit: number;
  readonly userAgent: string;
  readonly now?: () => number;
}

class ScrapeFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

/**
 * One scrape of one target: GET with Prometheus' headers, a status and Content-Type check, then the body
 * streamed through gunzip (when gzipped), a UTF-8 decoder and the exposition parser, under one timeout.
 * Never throws: every failure becomes a result with its reason.
 */
export class ScrapeClient {
  readonly #options: ScrapeClientOptions;
  readonly #headers: Record<string, string>;
  readonly #now: () => number;
  /**
   * One keep-alive connection per target, reused scrape after scrape. node:http's Agent rather than
   * undici's: loading undici costs 12 to 21 MiB of RSS, a third of the sidecar's memory budget.
   */
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;
  /** Samples in the last good scrape: the next parse sizes its tables for about as many. */
  #lastSampleCount = 0;
  /** One parser per format, reset for each body (see LineParser.reset: why not a new one per scrape). */
  readonly #parsers: Partial<Record<ExpositionFormat, ExpositionParser>> = {};

  constructor(options: ScrapeClientOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const https = options.url.protocol === 'https:';
    this.#agent = https
      ? new HttpsAgent({ keepAlive: true, maxSockets: 1 })
      : new HttpAgent({ keepAlive: true, maxSockets: 1 });
    this.#request = https ? httpsRequest : httpRequest;
    this.#headers = {
      accept: SCRAPE_ACCEPT,
      'accept-encoding': 'gzip',
      'user-agent': options.userAgent,
      'x-prometheus-scrape-timeout-seconds': String(options.timeoutMs / 1000),
    };
  }

  async scrape(signal?: AbortSignal): Promise<ScrapeResult> {
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, this.#options.timeoutMs);
    const onOuterAbort = () => abort.abort();
    signal?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      const snapshot = await this.#scrape(abort.signal);
      return { ok: true, snapshot };
    } catch (error) {
      if (timedOut) {
        return {
          ok: false,
          reason: 'timeout',
          message: `no complete answer within ${this.#options.timeoutMs} ms`,
        };
      }
      if (error instanceof ScrapeFailure) {
        return error.line === undefined
          ? { ok: false, reason: error.reason, message: error.message }
          : { ok: false, reason: error.reason, message: error.message, line: error.line };
      }
      if (error instanceof ExpositionError) {
        return { ok: false, reason: error.kind, message: error.message, line: error.line };
      }
      const code = (error as { code?: unknown } | undefined)?.code;
      if (typeof code === 'string' && code.startsWith('Z_')) {
        return {
          ok: false,
          reason: 'parse',
          message: `body is not valid gzip (${(error as Error).message})`,
        };
      }
      return { ok: false, reason: 'connect', message: describeTransportError(error) };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onOuterAbort);
    }
  }

  #parser(format: ExpositionFormat, options: ExpositionParserOptions): ExpositionParser {
    const kept = this.#parsers[format];
    if (kept === undefined) {
      const parser = createExpositionParser(format, options);
      this.#parsers[format] = parser;
      return parser;
    }
    kept.reset(options);
    return kept;
  }

  /** Closes the kept-alive connection. */
  close(): void {
    this.#agent.destroy();
  }

  #get(signal: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const request = this.#request(
        this.#options.url,
        { method: 'GET', headers: this.#headers, agent: this.#agent, signal },
        resolve,
      );
      request.on('error', reject);
      request.end();
    });
  }

  async #scrape(signal: AbortSignal): Promise<Snapshot> {
    const { bodyLimit, sampleLimit } = this.#options;
    const response = await this.#get(signal);
    const body = response;
    try {
      const status = response.statusCode ?? 0;
      if (status < 200 || status > 299) {
        throw new ScrapeFailure('status', `answered HTTP ${status}; expected 200`);
      }
      const format = formatOf(header(response.headers, 'content-type'));
      const encoding = (header(response.headers, 'content-encoding') ?? 'identity').trim().toLowerCase();
      if (encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'x-gzip') {
        throw new ScrapeFailure(
          'parse',
          `answered with Content-Encoding ${encoding}; only gzip is asked for`,
        );
      }
      const parser = this.#parser(format, { sampleLimit, expectedSamples: this.#lastSampleCount });
      const decoder = new TextDecoder('utf-8', { fatal: true });
      let decoding = false;
      let bytes = 0;
      let parsed: ParsedExposition | undefined;
      // Inflated bytes are gathered into pieces of about PIECE and each piece decoded and parsed as one
      // string: a string that large is a large object, which the scavenger never copies (the snapshot's
      // samples are spans of it and keep it alive), while 64 KiB ones were copied twice per scrape.
      const piece: Buffer[] = [];
      let pieceBytes = 0;
      const parsePiece = (): void => {
        if (pieceBytes === 0) return;
        const bytesOfPiece = piece.length === 1 ? piece[0]! : Buffer.concat(piece, pieceBytes);
        piece.length = 0;
        pieceBytes = 0;
        // Metrics are nearly always ASCII: validating that and copying bytes beats UTF-8 decoding, as
        // long as the decoder holds no partial character from an earlier piece.
        if (!decoding && isAscii(bytesOfPiece)) {
          parser.push(bytesOfPiece.toString('latin1'));
        } else {
          decoding = true;
          parser.push(decodeChunk(decoder, bytesOfPiece, true));
        }
      };
      // pipeline, unlike pipe, passes a socket error on to the gunzip stream we read from.
      // Large output chunks: each one is a round trip to the thread pool, and 16 KiB ones cost more than
      // the inflating itself for a megabyte of metrics.
      const stream: Readable =
        encoding === 'identity' ? body : pipeline(body, createGunzip({ chunkSize: GUNZIP_CHUNK }), () => {});
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          bytes += chunk.length;
          if (bytes > bodyLimit) {
            throw new ScrapeFailure('body_limit', `body is larger than ${bodyLimit} bytes (--body-limit)`);
          }
          piece.push(chunk);
          pieceBytes += chunk.length;
          if (pieceBytes >= PIECE) parsePiece();
        }
        parsePiece();
        if (decoding) parser.push(decodeChunk(decoder, undefined, false));
        parsed = parser.end();
      } finally {
        if (stream !== body) stream.destroy();
        // A body that failed half-way must not stay reachable from the kept parser until the next scrape.
        if (parsed === undefined) parser.reset({ sampleLimit, expectedSamples: this.#lastSampleCount });
      }
      this.#lastSampleCount = parsed.sampleCount;
      return Object.freeze({
        target: this.#options.target,
        format,
        families: parsed.families,
        sampleCount: parsed.sampleCount,
        scrapedAt: this.#now(),
      });
    } finally {
      // Unread bytes would keep the connection busy; destroying drops it, the agent opens a new one.
      if (!body.readableEnded) {
        body.on('error', () => {});
        body.destroy();
      }
    }
  }
}

function decodeChunk(decoder: TextDecoder, chunk: Buffer | undefined, stream: boolean): string {
  try {
    return decoder.decode(chunk, { stream });
  } catch {
    throw new ScrapeFailure('parse', 'body is not valid UTF-8');
  }
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * OpenMetrics by its media type; text 0.0.4 for `text/plain` or no Content-Type (what Prometheus assumes);
 * anything else, such as an HTML error page, is not metrics.
 */
function formatOf(contentType: string | undefined): ExpositionFormat {
  if (contentType === undefined || contentType.trim() === '') return 'text';
  const mediaType = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (mediaType === 'application/openmetrics-text') return 'openmetrics';
  if (mediaType === 'text/plain') return 'text';
  throw new ScrapeFailure(
    'parse',
    `answered Content-Type ${mediaType}; expected application/openmetrics-text or text/plain`,
  );
}
