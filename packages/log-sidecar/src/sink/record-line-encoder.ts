import type { LogRecord } from '../record.js';
import { isBuiltRecord } from '../record-builder.js';
import type { BufferPool } from './buffer-pool.js';
import { jsonString, jsonStringRoom, writeJsonString, writeUtf8 } from './json-string.js';

export { jsonString } from './json-string.js';

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

export class RecordLineEncoder {
  private readonly timeOpen: string;
  private readonly includeId: boolean;
  private labelsObject: Readonly<Record<string, string>> | undefined;
  private labelsJson = '';
  private path = '';
  private pathJson = '""';
  private second = Number.NaN;
  private secondPrefix = '';
  /** `{"time":"YYYY-MM-DDTHH:MM:SS.` of `bytesSecond` (kept apart from `line()`'s cache). */
  private secondBytes = EMPTY;
  private bytesSecond = Number.NaN;
  private headPath: string | undefined;
  private headFileKey: string | undefined;
  private headLabels: Readonly<Record<string, string>> | undefined;
  private headTruncated = false;
  private headBytes = EMPTY;
  private tailBytes = EMPTY;

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
   * Records as lines in one UTF-8 buffer: the single encoding pass a write or request body needs, and the
   * same bytes as `lines()`. Each part is written straight into the buffer: the envelope from cached
   * bytes (the time's second, path, file key and labels repeat for long runs of records), digits in
   * place, a message JSON-escaped into it (`writeJsonString`), a JSON record's text by the native UTF-8
   * writer. No per-line string is built: the escaped copy of every raw line and the batch-sized strings
   * were most of this path's CPU and garbage. `before` gives text written ahead of each record's line
   * (Elasticsearch's action line). With a `pool`, the buffer is taken from it (and one outgrown is given
   * back): the caller gives the result back once nothing reads it.
   */
  bytes(records: readonly LogRecord[], before?: (record: LogRecord) => string, pool?: BufferPool): Buffer {
    let out = pool === undefined ? Buffer.allocUnsafe(firstSize(records)) : pool.take(firstSize(records));
    let used = 0;
    for (const record of records) {
      const prefix = before === undefined ? '' : before(record);
      const message = record.message;
      const head = this.head(record);
      const isJson = record.isJson;
      // A JSON record's text is valid JSON (it was parsed when the record was built): embed it verbatim.
      let body: string | undefined = isJson === true && embeddableJson(message) ? message : undefined;
      if (body === undefined && isJson !== false) {
        const fields = record.fields;
        if (fields !== undefined) body = embeddableJson(message) ? message : JSON.stringify(fields);
      }
      // Every part's bound: the time (its field name, 24 characters of ISO, or 27 outside 0000-9999), the
      // cached head and tail, the offset's digits, the keys and closers; a message is escaped (up to 6
      // bytes a UTF-16 unit), JSON text takes at most 3.
      const room =
        prefix.length * 3 +
        this.timeOpen.length * 3 +
        head.length +
        this.tailBytes.length +
        96 +
        (body === undefined ? jsonStringRoom(message) : body.length * 3);
      if (out.length - used < room) {
        const wanted = Math.max(out.length * 2, used + room);
        const bigger = pool === undefined ? Buffer.allocUnsafe(wanted) : pool.take(wanted);
        out.copy(bigger, 0, 0, used);
        pool?.give(out);
        out = bigger;
      }
      if (prefix !== '') used += writeUtf8(out, prefix, used);
      used = this.writeHead(out, used, record, head);
      if (body === undefined) {
        out.set(MESSAGE_KEY, used);
        used = writeJsonString(out, used + MESSAGE_KEY.length, message);
      } else {
        out.set(FIELDS_KEY, used);
        used += FIELDS_KEY.length;
        used += writeUtf8(out, body, used);
      }
      out[used++] = CLOSE_BRACE;
      out[used++] = NEWLINE;
    }
    return out.subarray(0, used);
  }

  /**
   * The envelope after the time's milliseconds, as bytes: `Z","path":...,"id":"<file key>:` when the id
   * is the file key and offset (a built record: its offset is written as digits after it), else with the
   * whole id; then the labels and `"truncated"`. Cached while path, file key and labels stay the same.
   */
  private head(record: LogRecord): Buffer {
    const path = record.path;
    const labels = record.labels;
    const truncated = record.truncated;
    if (!isBuiltRecord(record)) {
      const id = this.includeId ? `,"id":${jsonString(record.id)}` : '';
      return Buffer.from(`Z","path":${this.pathText(path)}${id}${this.afterId(labels, truncated)}`, 'utf8');
    }
    const fileKey = record.fileKey;
    if (
      path !== this.headPath ||
      fileKey !== this.headFileKey ||
      labels !== this.headLabels ||
      truncated !== this.headTruncated
    ) {
      this.headPath = path;
      this.headFileKey = fileKey;
      this.headLabels = labels;
      this.headTruncated = truncated;
      const pathPart = `Z","path":${this.pathText(path)}`;
      const after = this.afterId(labels, truncated);
      if (this.includeId) {
        // jsonString(`${fileKey}:${offset}`) is jsonString(`${fileKey}:`) with the digits before its quote.
        this.headBytes = Buffer.from(`${pathPart},"id":${jsonString(`${fileKey}:`).slice(0, -1)}`, 'utf8');
        this.tailBytes = Buffer.from(`"${after}`, 'utf8');
      } else {
        this.headBytes = Buffer.from(`${pathPart}${after}`, 'utf8');
        this.tailBytes = EMPTY;
      }
    }
    return this.headBytes;
  }

  private afterId(labels: Readonly<Record<string, string>>, truncated: boolean): string {
    return `${this.labelsText(labels)}${truncated ? ',"truncated":true' : ''}`;
  }

  /** Writes `{"time":"...` up to the message or fields key; `head` is `this.head(record)`. */
  private writeHead(out: Buffer, at: number, record: LogRecord, head: Buffer): number {
    const ms = Math.floor(record.time);
    const second = Math.floor(ms / 1000);
    if (second !== this.bytesSecond) {
      const iso = this.isoTime(ms);
      if (iso.length !== 24) {
        // Years outside 0000-9999: the whole time as text, nothing cached.
        at += writeUtf8(out, `${this.timeOpen}${iso.slice(0, -1)}`, at);
        return this.writeAfterTime(out, at, record, head);
      }
      this.secondBytes = Buffer.from(`${this.timeOpen}${this.secondPrefix}`, 'utf8');
      this.bytesSecond = second;
    }
    out.set(this.secondBytes, at);
    at += this.secondBytes.length;
    const millis = ms - second * 1000;
    out[at++] = DIGIT_0 + Math.floor(millis / 100);
    out[at++] = DIGIT_0 + (Math.floor(millis / 10) % 10);
    out[at++] = DIGIT_0 + (millis % 10);
    return this.writeAfterTime(out, at, record, head);
  }

  private writeAfterTime(out: Buffer, at: number, record: LogRecord, head: Buffer): number {
    out.set(head, at);
    at += head.length;
    if (head === this.headBytes && this.includeId && isBuiltRecord(record)) {
      at = writeDigits(out, at, record.offset);
      out.set(this.tailBytes, at);
      at += this.tailBytes.length;
    }
    return at;
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
 * The first buffer's size for a batch: each message's UTF-16 length plus an eighth (escapes: the
 * benchmark's JSON-text lines grow ~10 %) and 192 bytes of envelope; the buffer doubles when a batch needs
 * more. A fixed 512 bytes a record over-allocated a 193-byte line's 377 bytes by 36 %, and with reused
 * buffers the first size is what stays allocated.
 */
function firstSize(records: readonly LogRecord[]): number {
  let size = 4096;
  for (const record of records) size += record.message.length + (record.message.length >> 3) + 192;
  return size;
}

const EMPTY = Buffer.alloc(0);
const MESSAGE_KEY = Buffer.from(',"message":', 'latin1');
const FIELDS_KEY = Buffer.from(',"fields":', 'latin1');
const CLOSE_BRACE = 0x7d;
const NEWLINE = 0x0a;
const DIGIT_0 = 0x30;

/** Writes a non-negative integer's decimal digits (as String(value) would) and returns the end. */
function writeDigits(out: Buffer, at: number, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) return at + out.write(String(value), at, 'latin1');
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  let rest = value;
  for (let i = at + digits - 1; i >= at; i--) {
    out[i] = DIGIT_0 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return at + digits;
}
