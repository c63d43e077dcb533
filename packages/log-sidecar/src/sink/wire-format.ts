import type { LogRecord } from '../record.js';
import type { BufferPool } from './buffer-pool.js';
import type { SendResult } from './sink.js';

/**
 * What an HTTP sink needs to know about one backend protocol: how a batch becomes a request body, and
 * how a successful (2xx) answer is read when it can still carry per-record failures.
 */
export interface WireFormat {
  readonly name: string;
  readonly contentType: string;
  /**
   * The request body, uncompressed (a Buffer when the format encodes straight to UTF-8). A format that
   * encodes into a buffer may take it from `pool`; the sink gives it back once the request is done with it.
   */
  encode(records: readonly LogRecord[], pool?: BufferPool): string | Buffer;
  /**
   * Reads a 2xx answer's body. Absent when a 2xx always means every record was taken (the body is then
   * discarded unread).
   */
  readAccepted?(body: string, records: readonly LogRecord[]): SendResult;
}
