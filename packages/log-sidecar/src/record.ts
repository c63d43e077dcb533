/**
 * One log record: a complete line (or a multiline group) read from a file, with where it came from.
 * Records are immutable once emitted; sinks only read them.
 */
export interface LogRecord {
  /**
   * Stable across restarts: derived from the file's identity and the record's start offset, so a record
   * delivered twice (at-least-once) carries the same id both times (Elasticsearch `_id`, dedup in tests).
   */
  readonly id: string;
  /** Identity key of the source file (device, inode, fingerprint of its first bytes). */
  readonly fileKey: string;
  /** Path the file had when the record was read. */
  readonly path: string;
  /** Byte offset of the record's first byte in the file. */
  readonly offset: number;
  /** Byte offset just after the record's last newline: what the checkpoint moves to once it is acked. */
  readonly endOffset: number;
  /** Event time in milliseconds since the epoch (fractional part keeps microseconds). */
  readonly time: number;
  /**
   * The text of the line(s), newline stripped, invalid UTF-8 replaced; multiline groups joined by '\n'.
   * Except for a multiline group whose first line is a JSON object (`--format json`): then it is that
   * object on one line with the lines after it as one more string field, named by `continuationField`.
   */
  readonly message: string;
  /**
   * With `--format json` and a line that is a JSON object: its fields. Otherwise undefined. May parse
   * `message` on each access (records built by the RecordBuilder keep the text, not the object): read once.
   */
  readonly fields: Readonly<Record<string, unknown>> | undefined;
  /**
   * True when `message` is the JSON text of `fields` (a JSON object), so a sink can embed it without
   * parsing. Absent means "look at `fields`".
   */
  readonly isJson?: boolean;
  /**
   * Set on a multiline record whose first line is a JSON object: the field of `fields` that holds the
   * lines after it, as they were written and joined by '\n' (the traceback; `--multiline-field`).
   * Undefined on every other record, a JSON line with a traceback inside it included.
   */
  readonly continuationField?: string | undefined;
  /** Static labels (`--label`, Downward API) shared by every record of the process. */
  readonly labels: Readonly<Record<string, string>>;
  /** True when the line was longer than `--max-line-bytes` and was cut. */
  readonly truncated: boolean;
  /** When the sidecar read the line (ms since the epoch): the start of the delivery-latency clock. */
  readonly readAt: number;
  /** Bytes the record occupies in the file, used for buffer accounting. */
  readonly bytes: number;
}
