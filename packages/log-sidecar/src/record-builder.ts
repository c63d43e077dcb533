import { epochNumberToMs, eventTime, parseTimeText } from './event-time.js';
import { JsonLineScanner, ValueKind } from './json-line-scanner.js';
import type { LogRecord } from './record.js';
import { jsonString } from './sink/json-string.js';

export type RecordFormat = 'json' | 'raw';

export interface RecordBuilderOptions {
  /**
   * The field a multiline group's continuation lines go into when its first line is a JSON object
   * (`--multiline-field`). Undefined when lines are not grouped: a record is then never split.
   */
  readonly continuationField?: string | undefined;
}

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
    /** True when `message` is a JSON object (checked once, by the JsonLineScanner, when the record was built). */
    readonly isJson: boolean,
    readonly labels: Readonly<globalThis.Record<string, string>>,
    readonly truncated: boolean,
    readonly readAt: number,
    readonly continuationField: string | undefined,
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
 * its time (`ts`, `time` or `timestamp`); anything else keeps only its text. A multiline group whose
 * first line is a JSON object keeps that object's fields and time too, with the lines after it (the
 * traceback) as one more field, so an error record is as structured as the lines around it. The id is
 * the file identity and the start offset, so the same line gets the same id after a restart.
 */
export class RecordBuilder {
  readonly #json: boolean;
  readonly #labels: Readonly<globalThis.Record<string, string>>;
  readonly #continuationField: string | undefined;
  readonly #scanner = new JsonLineScanner();

  constructor(
    format: RecordFormat,
    labels: Readonly<globalThis.Record<string, string>>,
    options: RecordBuilderOptions = {},
  ) {
    this.#json = format === 'json';
    this.#labels = Object.freeze({ ...labels });
    this.#continuationField = options.continuationField;
  }

  build(
    source: RecordSource,
    message: string,
    offset: number,
    endOffset: number,
    truncated: boolean,
    readAt: number,
  ): LogRecord {
    let text = message;
    let isJson = false;
    let time = readAt;
    let field: string | undefined;
    // Only a multiline group holds a '\n' (the framer strips it from single lines): no scan without one.
    const newline = this.#json && this.#continuationField !== undefined ? message.indexOf('\n') : -1;
    if (newline >= 0) {
      const group = this.#group(message, newline);
      if (group !== undefined) {
        ({ text, time = readAt, field } = group);
        isJson = true;
      }
    } else if (this.#json && !truncated && this.#scanner.scan(message)) {
      isJson = true;
      time = this.#scannedTime(message) ?? readAt;
    }
    return new Record(
      source.fileKey,
      source.path,
      offset,
      endOffset,
      time,
      text,
      isJson,
      this.#labels,
      truncated,
      readAt,
      field,
    );
  }

  /** `eventTime` of the object the scanner just read in `text`, from the spans it kept. */
  #scannedTime(text: string): number | undefined {
    const { kinds, starts, ends, ascii } = this.#scanner;
    // `ts ?? time ?? timestamp`: a key that is absent or null gives way to the next.
    let key = 0;
    while (key < 2 && kinds[key]! <= ValueKind.Null) key++;
    // Byte positions are text positions only in ASCII text; otherwise read the time as JSON.parse does.
    if (!ascii && kinds[key]! > ValueKind.Null)
      return eventTime(JSON.parse(text) as globalThis.Record<string, unknown>);
    switch (kinds[key]) {
      case ValueKind.Number:
        return epochNumberToMs(Number(text.slice(starts[key], ends[key])));
      case ValueKind.String:
        return parseTimeText(text.slice(starts[key]! + 1, ends[key]! - 1));
      case ValueKind.EscapedString:
        return parseTimeText(JSON.parse(text.slice(starts[key], ends[key])) as string);
      default:
        return undefined;
    }
  }

  /**
   * A multiline group whose first line is a JSON object becomes that object with the other lines as one
   * string field, on one line: every sink then reads it as it reads any JSON line (the encoder embeds it
   * verbatim, Loki's `| json` and Elasticsearch see one more field). A group cut at `--max-line-bytes`
   * is read too when its first line is whole. Undefined when the first line is not a JSON object.
   */
  #group(
    message: string,
    newline: number,
  ): { text: string; time: number | undefined; field: string } | undefined {
    const first = message.slice(0, newline);
    const fields = parseObject(first);
    if (fields === undefined) return undefined;
    const field = freeName(fields, this.#continuationField!);
    const object = first.trim();
    const rest = `${jsonString(field)}:${jsonString(message.slice(newline + 1))}}`;
    const text = hasKeys(fields) ? `${object.slice(0, -1)},${rest}` : `{${rest}`;
    return { text, time: eventTime(fields), field };
  }
}

/** `name`, or when the first line already has that field (kept as written), `name_2`, `name_3`, ... */
function freeName(fields: globalThis.Record<string, unknown>, name: string): string {
  if (!Object.hasOwn(fields, name)) return name;
  let n = 2;
  while (Object.hasOwn(fields, `${name}_${n}`)) n++;
  return `${name}_${n}`;
}

function hasKeys(object: object): boolean {
  for (const _ in object) return true;
  return false;
}

/**
 * True for a record this module built: its id is `recordId(fileKey, offset)`, so an encoder can write
 * the two parts without building the id string.
 */
export function isBuiltRecord(record: LogRecord): boolean {
  return record instanceof Record;
}

export { eventTime } from './event-time.js';

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
