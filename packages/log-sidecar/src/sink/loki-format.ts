import type { LogRecord } from '../record.js';
import { exceptionSummary } from './exception-summary.js';
import { unixNanos } from './unix-nanos.js';
import type { WireFormat } from './wire-format.js';

export interface LokiFormatOptions {
  /** Fields of JSON records to use as stream labels, next to the record's static labels. */
  readonly labelFields: readonly string[];
  /**
   * Attach `exception_type` and `exception_message` to a record with a traceback as structured metadata
   * (Loki 2.9+ with `allow_structured_metadata`, the default from 3.0). Off by default: a Loki that does
   * not allow it rejects the whole push with 400, every line of the batch with it.
   */
  readonly structuredMetadata?: boolean;
}

/** `[ns, line]`, or `[ns, line, structured metadata]` (string keys and values only). */
type Entry = readonly [string, string] | readonly [string, string, Readonly<Record<string, string>>];

interface Stream {
  readonly stream: Record<string, string>;
  readonly entries: { readonly ts: number; readonly value: Entry }[];
  sorted: boolean;
}

/**
 * The Loki push API in JSON (`POST /loki/api/v1/push`):
 * `{"streams":[{"stream":{labels},"values":[["<ns since epoch>","<line>"],...]}]}`.
 * One stream per distinct label set: the record's labels, `filename` (as Promtail sets it) and the chosen
 * fields of JSON records. The line is the text as the agent wrote it, except for a JSON line followed by
 * its traceback: that is one JSON object with the traceback as a field (see LogRecord.message), so
 * `| json` reads every field of it and `| line_format "{{.exc_info}}"` shows the traceback. Entries of a stream are sent in
 * time order (stable, so equal timestamps keep file order), which every Loki version accepts.
 */
export class LokiFormat implements WireFormat {
  readonly name = 'loki';
  readonly contentType = 'application/json';

  constructor(private readonly options: LokiFormatOptions) {}

  encode(records: readonly LogRecord[]): string {
    const streams = new Map<string, Stream>();
    for (const record of records) {
      const labels = this.labelsOf(record);
      const key = JSON.stringify(labels);
      let stream = streams.get(key);
      if (!stream) {
        stream = { stream: labels, entries: [], sorted: true };
        streams.set(key, stream);
      }
      const last = stream.entries[stream.entries.length - 1];
      if (last !== undefined && record.time < last.ts) stream.sorted = false;
      stream.entries.push({ ts: record.time, value: this.entryOf(record) });
    }
    const body = {
      streams: [] as { stream: Record<string, string>; values: Entry[] }[],
    };
    for (const stream of streams.values()) {
      // Array.prototype.sort is stable, so lines with the same timestamp stay in file order.
      const entries = stream.sorted ? stream.entries : [...stream.entries].sort((a, b) => a.ts - b.ts);
      body.streams.push({ stream: stream.stream, values: entries.map((entry) => entry.value) });
    }
    return JSON.stringify(body);
  }

  private entryOf(record: LogRecord): Entry {
    const nanos = unixNanos(record.time);
    const field = record.continuationField;
    if (field === undefined || this.options.structuredMetadata !== true) return [nanos, record.message];
    const stack = record.fields?.[field];
    const exception = typeof stack === 'string' ? exceptionSummary(stack) : undefined;
    if (exception === undefined) return [nanos, record.message];
    const metadata: Record<string, string> = { exception_type: exception.type };
    if (exception.message !== undefined) metadata.exception_message = exception.message;
    return [nanos, record.message, metadata];
  }

  private labelsOf(record: LogRecord): Record<string, string> {
    const labels: Record<string, string> = { ...record.labels, filename: record.path };
    // `fields` parses the line on each access: only when there are label fields to look up.
    const fields = this.options.labelFields.length === 0 ? undefined : record.fields;
    if (fields !== undefined) {
      for (const name of this.options.labelFields) {
        const value = fields[name];
        if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
          labels[name] = String(value);
        }
      }
    }
    // Loki identifies a stream by its label set whatever the key order; sorting keeps one key per set here.
    return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}
