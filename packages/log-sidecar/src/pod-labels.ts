// Chosen Pod labels on every record, read from the Downward API volume's `labels` file (the kubelet
// writes one `key="value"` line per label, the value quoted as Go's strconv.Quote does).
import { readFileSync } from 'node:fs';
import {
  ConfigError,
  InvalidValue,
  listOption,
  option,
  type Parser,
  parseString,
  shapedParser,
} from '@agent-sidecars/shared';

// A Kubernetes label key: an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters.
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

const parsePodLabelKey: Parser<string> = shapedParser(
  (raw) => {
    const key = raw.trim();
    if (!LABEL_KEY.test(key)) {
      throw new InvalidValue(
        'is not a Kubernetes label key',
        'name a label of the Pod, with or without its prefix, e.g. app.kubernetes.io/version or team',
      );
    }
    return key;
  },
  { type: 'string', pattern: LABEL_KEY.source },
);

export const podLabelOptions = {
  podLabels: listOption(parsePodLabelKey, {
    group: 'parsing',
    description:
      'Pod labels to put on every record, read from --pod-labels-file; app.kubernetes.io/name becomes app_kubernetes_io_name',
    valueName: '<key>',
  }),
  podLabelsFile: option(parseString, {
    group: 'parsing',
    description: 'the Downward API file of the Pod labels (fieldPath metadata.labels), read at start',
    valueName: '<file>',
    default: '/etc/podinfo/labels',
    defaultText: '/etc/podinfo/labels',
  }),
} as const;

/** A label key as a record label name (letters, digits, `_`), the way Prometheus names `__meta_kubernetes_pod_label_*`. */
export function recordLabelName(key: string): string {
  const name = key.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** Go's strconv.Quote escapes that JSON lacks, as JSON ones. */
function goQuotedToJson(quoted: string): string {
  return quoted.replace(/\\(x[0-9a-fA-F]{2}|a|v|\\)/g, (sequence, code: string) => {
    if (code === '\\') return sequence;
    if (code === 'a') return '\\u0007';
    if (code === 'v') return '\\u000b';
    return `\\u00${code.slice(1)}`;
  });
}

/** The labels of a Downward API `labels` file; a line it cannot read is an Error naming the line. */
export function parseDownwardApiLabels(text: string): Map<string, string> {
  const labels = new Map<string, string>();
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    const quoted = line.slice(eq + 1);
    let value: unknown;
    try {
      value = eq > 0 && quoted.startsWith('"') ? JSON.parse(goQuotedToJson(quoted)) : undefined;
    } catch {
      value = undefined;
    }
    if (typeof value !== 'string') throw new Error(`line ${index + 1} is not key="value": ${line}`);
    labels.set(key, value);
  }
  return labels;
}

export interface PodLabels {
  /** Record label name -> value, for the labels the Pod has. */
  readonly labels: Record<string, string>;
  /** Keys named by --pod-labels that the Pod does not carry. */
  readonly missing: string[];
}

/**
 * The chosen Pod labels, read once at start-up: the file is the Pod's own, so a missing or unreadable
 * one is a deployment error (exit 2), not something to ship records without saying so.
 */
export function readPodLabels(
  config: { readonly podLabels: readonly string[]; readonly podLabelsFile: string },
  names: { readonly podLabelsFile: string },
  read: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): PodLabels {
  if (config.podLabels.length === 0) return { labels: {}, missing: [] };
  let pod: Map<string, string>;
  try {
    pod = parseDownwardApiLabels(read(config.podLabelsFile));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(
      names.podLabelsFile,
      config.podLabelsFile,
      `cannot be read (${reason}) and --pod-labels is set`,
      'mount a downwardAPI volume with an item path: labels, fieldPath: metadata.labels there, or drop --pod-labels',
    );
  }
  const labels: Record<string, string> = {};
  const missing: string[] = [];
  for (const key of config.podLabels) {
    const value = pod.get(key);
    if (value === undefined) missing.push(key);
    else labels[recordLabelName(key)] = value;
  }
  return { labels, missing };
}
