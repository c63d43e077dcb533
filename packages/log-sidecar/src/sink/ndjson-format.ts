import type { LogRecord } from '../record.js';
import type { BufferPool } from './buffer-pool.js';
import { RecordLineEncoder } from './record-line-encoder.js';
import type { WireFormat } from './wire-format.js';

/** Newline-delimited JSON, one record a line, in the same shape as the stdout sink writes. */
export class NdjsonFormat implements WireFormat {
  readonly name = 'ndjson';
  readonly contentType = 'application/x-ndjson';
  private readonly encoder = new RecordLineEncoder();

  encode(records: readonly LogRecord[], pool?: BufferPool): Buffer {
    return this.encoder.bytes(records, undefined, pool);
  }
}
