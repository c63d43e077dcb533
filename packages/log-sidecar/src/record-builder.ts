import type { LogRecord } from './record.js';

export type RecordFormat = 'json' | 'raw';

/** The file a record comes from, as the record builder needs it. */
export interface RecordSource {
  readonly fileKey: string;
  readonly path: string;
}

/**
 * A plain class so every record has one hidden class: the hot path stays monomorphic.
 *
 * A record is held in memory from read to the last sink's ack, so it keeps as little as it can: a JSON
 * line's parsed object (several times the size of its text, and old-generation garbage once promoted) is
 * not kept; the validated text is, and `fields` parses it again for the sinks that need an object (Loki
 * label fields, OTLP). The id and byte count are derived on demand for the same reason.
 */
class Record implements LogRecord {
  constructor(
    readonly fileKey: string,
    readonly path: string,
    readonly offset: number,
    readonly endOffset: number,
    readonly time: number,
    readonly message: string,
    /** True when `message` is a JSON object (checked by parsing it once, when the record was built). */
    readonly isJson: boolean,
    readonly labels: Readonly<globalThis.Record<string, string>>,
    readonly truncated: boolean,
    readonly readAt: number,
  ) {}

  get id(): string {
    return recordId(this.fileKey, this.offset);
  }

  get bytes(): number {
    return this.endOffset - this.offset;
  }

  get fields(): Readonly<globalThis.Record<string, unknown>> | undefined {
    return this.isJson ? (JSON.parse(this.message) as globalThis.Record<string, unknown>) : undefined;
  }
}

/**
 * Turns a decoded line into a LogRecord: with `json`, a line that is a JSON object gives its fields and
 * its time (`ts`, `time` or `timestamp`); anything else keeps only its text. The id is the file identity
 * and the start offset, so the same line gets the same id after a restart.
 */
export class RecordBuilder {
  readonly #json: boolean;
  readonly #labels: Readonly<globalThis.Record<string, string>>;

  constructor(format: RecordFormat, labels: Readonly<globalThis.Record<string, string>>) {
    this.#json = format === 'json';
    this.#labels = Object.freeze({ ...labels });
  }

  build(
    source: RecordSource,
    message: string,
    offset: number,
    endOffset: number,
    truncated: boolean,
    readAt: number,
  ): LogRecord {
    let isJson = false;
    let time = readAt;
    if (this.#json && !truncated) {
      const fields = parseObject(message);
      if (fields !== undefined) {
        isJson = true;
        time = eventTime(fields) ?? readAt;
      }
    }
    return new Record(
      source.fileKey,
      source.path,
      offset,
      endOffset,
      time,
      message,
      isJson,
      this.#labels,
      truncated,
      readAt,
    );
  }
}

export function recordId(fileKey: string, offset: number): string {
  return `${fileKey}:${offset}`;
}

const OPEN_BRACE = 123;

function parseObject(text: string): globalThis.Record<string, unknown> | undefined {
  let first = 0;
  // Cheap pre-check: only text that can be an object is handed to JSON.parse.
  while (first < text.length && (text.charCodeAt(first) === 32 || text.charCodeAt(first) === 9)) first++;
  if (text.charCodeAt(first) !== OPEN_BRACE) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      return value as globalThis.Record<string, unknown>;
    }
  } catch {
    // Not JSON after all: the line is kept as text.
  }
  return undefined;
}

/** The line's own time from `ts`, `time` or `timestamp`, in ms since the epoch; undefined if none is usable. */
export function eventTime(fields: globalThis.Record<string, unknown>): number | undefined {
  const value = fields.ts ?? fields.time ?? fields.timestamp;
  if (typeof value === 'number') return epochNumberToMs(value);
  if (typeof value === 'string') return parseTimeText(value);
  return undefined;
}

/** Seconds (Python's time.time()), milliseconds, microseconds or nanoseconds, told apart by magnitude. */
function epochNumberToMs(value: number): number | undefined {
  if (!Number.isFinite(value) || value <= 0) return undefined;
  if (value < 1e11) return value * 1000;
  if (value < 1e14) return value;
  if (value < 1e17) return value / 1000;
  return value / 1e6;
}

const NUMERIC = /^\d+(?:\.\d+)?$/;
const ISO_LIKE = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:?\d{2})?$/i;

function parseTimeText(text: string): number | undefined {
  if (NUMERIC.test(text)) return epochNumberToMs(Number(text));
  const match = ISO_LIKE.exec(text);
  if (match) {
    // Python writes microseconds (and logging's asctime a comma); Date.parse keeps only milliseconds.
    const zone =
      match[4] === undefined
        ? ''
        : match[4].length === 5
          ? `${match[4].slice(0, 3)}:${match[4].slice(3)}`
          : match[4];
    const whole = Date.parse(`${match[1]}T${match[2]}${zone === '' ? 'Z' : zone.toUpperCase()}`);
    if (Number.isNaN(whole)) return undefined;
    const fraction = match[3] === undefined ? 0 : Number(`0.${match[3]}`) * 1000;
    return whole + fraction;
  }
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? undefined : parsed;
}
