import type { LogRecord } from '../record.js';
import { exceptionSummary } from './exception-summary.js';
import type { SendResult } from './sink.js';
import { unixNanos } from './unix-nanos.js';
import type { WireFormat } from './wire-format.js';

export interface OtlpFormatOptions {
  /** The process environment: Downward API variables and OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Called when the collector reports records it dropped (partialSuccess): they cannot be retried. */
  readonly onPartialSuccess?: (rejected: number, message: string) => void;
}

type AnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { arrayValue: { values: AnyValue[] } }
  | { kvlistValue: { values: KeyValue[] } }
  | Record<string, never>;
interface KeyValue {
  key: string;
  value: AnyValue;
}

/** Our static label names and Downward API variables, mapped to OpenTelemetry Kubernetes semantic conventions. */
const K8S_LABELS: Readonly<Record<string, string>> = {
  pod: 'k8s.pod.name',
  namespace: 'k8s.namespace.name',
  node: 'k8s.node.name',
  container: 'k8s.container.name',
};
const K8S_ENV: Readonly<Record<string, string>> = {
  POD_NAME: 'k8s.pod.name',
  POD_NAMESPACE: 'k8s.namespace.name',
  NODE_NAME: 'k8s.node.name',
  CONTAINER_NAME: 'k8s.container.name',
  POD_UID: 'k8s.pod.uid',
};

/** Python logging and common JSON loggers' level names to OTLP SeverityNumber (logs data model). */
const SEVERITY: Readonly<Record<string, number>> = {
  trace: 1,
  debug: 5,
  info: 9,
  notice: 10,
  warn: 13,
  warning: 13,
  error: 17,
  err: 17,
  critical: 21,
  fatal: 21,
  panic: 21,
};
const LEVEL_FIELDS = ['level', 'levelname', 'severity', 'log.level', 'lvl'] as const;

/**
 * OTLP/HTTP with the JSON encoding (`POST /v1/logs`, `ExportLogsServiceRequest`): one ResourceLogs per
 * distinct label set, resource attributes from the labels (pod, namespace, node, container mapped to the
 * k8s.* conventions), the Downward API variables, OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES. Times
 * are nanosecond strings (int64 in proto3 JSON), severityNumber an integer, the body the line (or, for a
 * JSON record, its fields as a kvlist). `log.file.path` and `log.record.uid` follow the semantic
 * conventions. A record that is a JSON line and the traceback after it carries the traceback as the
 * exception semantic convention has it: `exception.stacktrace`, and `exception.type` / `exception.message`
 * read from its exception line (`Type: message`); the body keeps the other fields.
 */
export class OtlpFormat implements WireFormat {
  readonly name = 'otlp';
  readonly contentType = 'application/json';
  private readonly envAttributes: Map<string, string>;

  constructor(private readonly options: OtlpFormatOptions) {
    this.envAttributes = new Map();
    const env = options.env;
    for (const part of (env.OTEL_RESOURCE_ATTRIBUTES ?? '').split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0)
        this.envAttributes.set(decodeSafe(part.slice(0, eq).trim()), decodeSafe(part.slice(eq + 1).trim()));
    }
    for (const [variable, key] of Object.entries(K8S_ENV)) {
      const value = env[variable];
      if (value) this.envAttributes.set(key, value);
    }
    if (env.OTEL_SERVICE_NAME) this.envAttributes.set('service.name', env.OTEL_SERVICE_NAME);
  }

  encode(records: readonly LogRecord[]): string {
    // Records normally share one labels object; equal label sets from different objects still group.
    const byLabels = new Map<string, { labels: Readonly<Record<string, string>>; logRecords: unknown[] }>();
    let lastLabels: Readonly<Record<string, string>> | undefined;
    let lastKey = '';
    for (const record of records) {
      if (record.labels !== lastLabels) {
        lastLabels = record.labels;
        lastKey = JSON.stringify(
          Object.entries(record.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        );
      }
      let group = byLabels.get(lastKey);
      if (!group) {
        group = { labels: record.labels, logRecords: [] };
        byLabels.set(lastKey, group);
      }
      group.logRecords.push(this.logRecord(record));
    }
    const resourceLogs = [...byLabels.values()].map(({ labels, logRecords }) => ({
      resource: { attributes: this.resourceAttributes(labels) },
      scopeLogs: [{ scope: { name: 'log-sidecar' }, logRecords }],
    }));
    return JSON.stringify({ resourceLogs });
  }

  readAccepted(body: string): SendResult {
    if (body.trim() !== '') {
      try {
        const parsed = JSON.parse(body) as {
          partialSuccess?: { rejectedLogRecords?: unknown; errorMessage?: unknown };
        };
        const rejected = Number(parsed.partialSuccess?.rejectedLogRecords ?? 0);
        if (rejected > 0) {
          // The spec forbids retrying these, and does not say which records they were.
          this.options.onPartialSuccess?.(rejected, String(parsed.partialSuccess?.errorMessage ?? ''));
        }
      } catch {
        // A 2xx with an unreadable body still means the request was accepted.
      }
    }
    return { outcome: 'delivered' };
  }

  private resourceAttributes(labels: Readonly<Record<string, string>>): KeyValue[] {
    const attributes = new Map(this.envAttributes);
    for (const [name, value] of Object.entries(labels)) attributes.set(K8S_LABELS[name] ?? name, value);
    if (!attributes.has('service.name')) attributes.set('service.name', labels.app ?? 'agent');
    return [...attributes].map(([key, value]) => ({ key, value: { stringValue: value } }));
  }

  private logRecord(record: LogRecord): unknown {
    const nanos = unixNanos(record.time);
    const attributes: KeyValue[] = [
      { key: 'log.file.path', value: { stringValue: record.path } },
      { key: 'log.record.uid', value: { stringValue: record.id } },
    ];
    if (record.truncated) attributes.push({ key: 'log.record.truncated', value: { boolValue: true } });
    const out: Record<string, unknown> = {
      timeUnixNano: nanos,
      observedTimeUnixNano: unixNanos(record.readAt),
    };
    const fields = record.fields; // parsed on each access: once here
    const level = fields === undefined ? undefined : levelOf(fields);
    if (level !== undefined) {
      const number = SEVERITY[level.toLowerCase()];
      if (number !== undefined) out.severityNumber = number;
      out.severityText = level;
    }
    const field = record.continuationField;
    const stack = field === undefined ? undefined : fields?.[field];
    if (fields !== undefined && typeof stack === 'string') {
      attributes.push({ key: 'exception.stacktrace', value: { stringValue: stack } });
      const exception = exceptionSummary(stack);
      if (exception !== undefined) {
        attributes.push({ key: 'exception.type', value: { stringValue: exception.type } });
        if (exception.message !== undefined) {
          attributes.push({ key: 'exception.message', value: { stringValue: exception.message } });
        }
      }
      const { [field!]: _traceback, ...rest } = fields;
      out.body = anyValue(rest, 0);
    } else {
      out.body = fields === undefined ? { stringValue: record.message } : anyValue(fields, 0);
    }
    out.attributes = attributes;
    return out;
  }
}

function levelOf(fields: Readonly<Record<string, unknown>>): string | undefined {
  for (const name of LEVEL_FIELDS) {
    const value = fields[name];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/** JSON to the proto3-JSON form of AnyValue: int64 as a string, nesting as arrays and kvlists. */
function anyValue(value: unknown, depth: number): AnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  }
  if (value === null || value === undefined || depth > 32) return {};
  if (Array.isArray(value)) return { arrayValue: { values: value.map((item) => anyValue(item, depth + 1)) } };
  if (typeof value === 'object') {
    return {
      kvlistValue: {
        values: Object.entries(value).map(([key, item]) => ({ key, value: anyValue(item, depth + 1) })),
      },
    };
  }
  return { stringValue: String(value) };
}

function decodeSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
