import type { LogRecord } from '../record.js';
import { unixNanos } from './unix-nanos.js';
import type { WireFormat } from './wire-format.js';

export interface LokiFormatOptions {
  /** Fields of JSON records to use as stream labels, next to the record's static labels. */
  readonly labelFields: readonly string[];
}

interface Stream {
  readonly stream: Record<string, string>;
  readonly entries: { readonly ts: number; readonly value: readonly [string, string] }[];
  sorted: boolean;
}

/**
 * The Loki push API in JSON (`POST /loki/api/v1/push`):
 * `{"streams":[{"stream":{labels},"values":[["<ns since epoch>","<line>"],...]}]}`.
 * One stream per distinct label set: the record's labels, `filename` (as Promtail sets it) and the chosen
 * fields of JSON records. The line is the text as the agent wrote it. Entries of a stream are sent in
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
      stream.entries.push({ ts: record.time, value: [unixNanos(record.time), record.message] });
    }
    const body = {
      streams: [] as { stream: Record<string, string>; values: (readonly [string, string])[] }[],
    };
    for (const stream of streams.values()) {
      // Array.prototype.sort is stable, so lines with the same timestamp stay in file order.
      const entries = stream.sorted ? stream.entries : [...stream.entries].sort((a, b) => a.ts - b.ts);
      body.streams.push({ stream: stream.stream, values: entries.map((entry) => entry.value) });
    }
    return JSON.stringify(body);
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
