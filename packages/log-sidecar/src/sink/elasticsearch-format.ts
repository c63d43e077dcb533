import type { LogRecord } from '../record.js';
import type { BufferPool } from './buffer-pool.js';
import { jsonString } from './json-string.js';
import { RecordLineEncoder } from './record-line-encoder.js';
import type { SendResult } from './sink.js';
import type { WireFormat } from './wire-format.js';

export interface ElasticsearchFormatOptions {
  /** Index name with %Y, %m, %d replaced from the record's time in UTC, e.g. `logs-%Y.%m.%d`. */
  readonly index: string;
}

type BulkItem = { status?: unknown; error?: { type?: unknown; reason?: unknown } | unknown };

/**
 * The `_bulk` API of Elasticsearch and OpenSearch: NDJSON pairs of an action line and a document, ending
 * with a newline. The action is `create` with the record id as `_id`: a batch sent twice (at-least-once)
 * finds its documents already there (409) instead of duplicating them, and `create` is also what data
 * streams require. The answer is read item by item: 409 counts as delivered, 408/429/5xx (but 501) are
 * sent again, anything else is rejected with the item's error.
 */
export class ElasticsearchFormat implements WireFormat {
  readonly name = 'elasticsearch';
  readonly contentType = 'application/x-ndjson';
  private readonly encoder = new RecordLineEncoder({ timeField: '@timestamp', includeId: false });
  private day = Number.NaN;
  private dayIndexJson = '';

  constructor(private readonly options: ElasticsearchFormatOptions) {}

  encode(records: readonly LogRecord[], pool?: BufferPool): Buffer {
    return this.encoder.bytes(records, this.action, pool);
  }

  private readonly action = (record: LogRecord): string =>
    `{"create":{"_index":${this.indexJson(record.time)},"_id":${jsonString(record.id)}}}\n`;

  indexName(timeMs: number): string {
    const date = new Date(timeMs);
    const pad = (n: number) => String(n).padStart(2, '0');
    return this.options.index
      .replaceAll('%Y', String(date.getUTCFullYear()))
      .replaceAll('%m', pad(date.getUTCMonth() + 1))
      .replaceAll('%d', pad(date.getUTCDate()));
  }

  readAccepted(body: string, records: readonly LogRecord[]): SendResult {
    let parsed: { errors?: unknown; items?: unknown };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return { outcome: 'retryable', reason: 'bulk answer is not JSON' };
    }
    if (parsed.errors === false) return { outcome: 'delivered' };
    const items = parsed.items;
    if (!Array.isArray(items) || items.length !== records.length) {
      return {
        outcome: 'retryable',
        reason: `bulk answer has ${Array.isArray(items) ? items.length : 'no'} items for ${records.length} documents`,
      };
    }
    const retry: number[] = [];
    const rejected: { index: number; reason: string; status?: number }[] = [];
    items.forEach((entry: unknown, index) => {
      const item = firstValue(entry);
      const status = typeof item?.status === 'number' ? item.status : undefined;
      if (status === undefined) {
        rejected.push({ index, reason: 'bulk item without a status' });
      } else if ((status >= 200 && status < 300) || status === 409) {
        // 409: a document with this _id exists, i.e. an earlier attempt delivered it.
      } else if (status === 408 || status === 429 || (status >= 500 && status !== 501)) {
        retry.push(index);
      } else {
        rejected.push({ index, status, reason: itemReason(item?.error) });
      }
    });
    if (retry.length === 0 && rejected.length === 0) return { outcome: 'delivered' };
    return { outcome: 'partial', retry, rejected };
  }

  private indexJson(timeMs: number): string {
    const day = Math.floor(timeMs / 86_400_000);
    if (day !== this.day) {
      this.day = day;
      this.dayIndexJson = JSON.stringify(this.indexName(timeMs));
    }
    return this.dayIndexJson;
  }
}

function firstValue(entry: unknown): BulkItem | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const values = Object.values(entry);
  const value = values[0];
  return typeof value === 'object' && value !== null ? (value as BulkItem) : undefined;
}

function itemReason(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { type, reason } = error as { type?: unknown; reason?: unknown };
    return `${String(type ?? 'error')}: ${String(reason ?? '')}`.slice(0, 500);
  }
  return typeof error === 'string' ? error.slice(0, 500) : 'rejected';
}
