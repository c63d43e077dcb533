import type { LogRecord } from '../record.js';

/**
 * Turns records into the one-JSON-object-a-line shape shared by the stdout sink, the NDJSON sink and the
 * deadline spill:
 * `{"time":"<ISO>","path":"...","id":"...","labels":{...},"truncated":true,"message":"..."}`, where a
 * record parsed with `--format json` carries `"fields":{...}` instead of `"message"`.
 *
 * This runs once per shipped line, so it avoids re-serialising what it can: labels and path are the same
 * object/string for long runs of records and are cached, the ISO time is rebuilt only when the second
 * changes, and a JSON record's fields are embedded as the original line text (it is a JSON object on one
 * line already: that is how the fields were parsed) rather than stringified again.
 */
export interface RecordLineEncoderOptions {
  /** Name of the time field: `time` by default, `@timestamp` for Elasticsearch. */
  readonly timeField?: string;
  /** Whether the line carries the record id (Elasticsearch has it as `_id` instead). Default true. */
  readonly includeId?: boolean;
}

/** Characters per string written into a batch buffer: well below V8's large-object size. */
const CHUNK_CHARS = 16 * 1024;

export class RecordLineEncoder {
  private readonly timeOpen: string;
  private readonly includeId: boolean;
  private labelsObject: Readonly<Record<string, string>> | undefined;
  private labelsJson = '';
  private path = '';
  private pathJson = '""';
  private second = Number.NaN;
  private secondPrefix = '';

  constructor(options: RecordLineEncoderOptions = {}) {
    this.timeOpen = `{${JSON.stringify(options.timeField ?? 'time')}:"`;
    this.includeId = options.includeId ?? true;
  }

  /** One record as a JSON object, without the newline. */
  line(record: LogRecord): string {
    let out = `${this.timeOpen}${this.isoTime(record.time)}","path":${this.pathText(record.path)}`;
    if (this.includeId) out += `,"id":${jsonString(record.id)}`;
    out += this.labelsText(record.labels);
    if (record.truncated) out += ',"truncated":true';
    const message = record.message;
    // A JSON record's text is valid JSON (it was parsed when the record was built): embed it verbatim.
    if (record.isJson === true && embeddableJson(message)) return `${out},"fields":${message}}`;
    const fields = record.isJson === false ? undefined : record.fields;
    if (fields === undefined) return `${out},"message":${jsonString(message)}}`;
    return `${out},"fields":${embeddableJson(message) ? message : JSON.stringify(fields)}}`;
  }

  /** Records as lines, each ending in '\n', in one string so a batch is one write. */
  lines(records: readonly LogRecord[]): string {
    let out = '';
    for (const record of records) out += `${this.line(record)}\n`;
    return out;
  }

  /**
   * Records as lines in one UTF-8 buffer: the single encoding pass a write or request body needs. Lines
   * are joined into strings of at most ~16 K characters and written into the buffer one string at a time:
   * a whole batch as one string (hundreds of KB) would be a large object, garbage in the old generation
   * at every batch, which let the heap grow by a hundred MiB before a full collection.
   */
  bytes(records: readonly LogRecord[]): Buffer {
    let out = Buffer.allocUnsafe(Math.max(4096, records.length * 512));
    let used = 0;
    let chunk = '';
    const last = records.length - 1;
    for (let i = 0; i <= last; i++) {
      chunk += `${this.line(records[i]!)}\n`;
      if (chunk.length < CHUNK_CHARS && i !== last) continue;
      // At most 3 UTF-8 bytes per UTF-16 code unit: room for that means write() never truncates.
      const room = chunk.length * 3;
      if (out.length - used < room) {
        const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, used + room));
        out.copy(bigger, 0, 0, used);
        out = bigger;
      }
      used += out.write(chunk, used, 'utf8');
      chunk = '';
    }
    return out.subarray(0, used);
  }

  isoTime(timeMs: number): string {
    const ms = Math.floor(timeMs);
    const second = Math.floor(ms / 1000);
    if (second !== this.second) {
      const iso = new Date(second * 1000).toISOString();
      if (iso.length !== 24) return new Date(ms).toISOString(); // years outside 0000-9999: no caching
      this.second = second;
      this.secondPrefix = iso.slice(0, 20);
    }
    const millis = ms - second * 1000;
    return `${this.secondPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
  }

  private pathText(path: string): string {
    if (path !== this.path) {
      this.path = path;
      this.pathJson = JSON.stringify(path);
    }
    return this.pathJson;
  }

  private labelsText(labels: Readonly<Record<string, string>>): string {
    if (labels !== this.labelsObject) {
      this.labelsObject = labels;
      this.labelsJson = Object.keys(labels).length === 0 ? '' : `,"labels":${JSON.stringify(labels)}`;
    }
    return this.labelsJson;
  }
}

/**
 * The fields of a JSON record were parsed from its message, so the message is valid JSON; it can stand in
 * for them verbatim when it is a single-line object (a multiline group would break the one-line framing).
 */
function embeddableJson(message: string): boolean {
  return message.charCodeAt(0) === 0x7b && message.indexOf('\n') === -1 && message.indexOf('\r') === -1;
}

/**
 * What JSON.stringify would escape in a string: '"', '\\', control characters, and (well-formed
 * JSON.stringify) lone surrogates; a surrogate pair is rare enough in logs to take the slow path too.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify of a string, without its cost when nothing needs escaping (nearly every log line). */
export function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}
