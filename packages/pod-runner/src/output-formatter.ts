import type { OutputStream } from './managed-process.js';
import type { PodEvent } from './pod.js';

const COLORS: Record<string, string> = {
  'log-sidecar': '\u001b[36m',
  'metrics-sidecar': '\u001b[35m',
  agent: '\u001b[33m',
  pod: '\u001b[32m',
  receiver: '\u001b[34m',
};
const RESET = '\u001b[0m';
const DIM = '\u001b[2m';
const PINO_NOISE = new Set(['level', 'time', 'msg', 'name', 'pid', 'hostname']);
const PREFIX_WIDTH = 15;

/**
 * Makes the Pod's interleaved output readable: one prefix per process, pino JSON rendered as
 * `time LEVEL message key=value`, and the log-sidecar's shipped records (its stdout) marked as such.
 */
export class OutputFormatter {
  readonly #color: boolean;

  constructor(options: { readonly color: boolean }) {
    this.#color = options.color;
  }

  prefix(name: string): string {
    const text = `${name.padEnd(PREFIX_WIDTH)}|`;
    const color = COLORS[name];
    return this.#color && color ? `${color}${text}${RESET}` : text;
  }

  /** One line a container wrote. */
  line(container: string, stream: OutputStream, text: string): string {
    if (container === 'log-sidecar' && stream === 'stdout')
      return `${this.prefix(container)} ${this.#record(text)}`;
    return `${this.prefix(container)} ${this.#pino(text) ?? text}`;
  }

  /** A container's own log line without a prefix: pino JSON rendered, anything else as it is. */
  render(text: string): string {
    return this.#pino(text) ?? text;
  }

  event(event: PodEvent): string {
    return `${this.prefix('pod')} ${event.container}: ${event.kind}${event.detail ? ` (${event.detail})` : ''}`;
  }

  /** A line from the runner itself. */
  say(text: string, from = 'pod'): string {
    return text
      .split('\n')
      .map((line) => `${this.prefix(from)} ${line}`)
      .join('\n');
  }

  dim(text: string): string {
    return this.#color ? `${DIM}${text}${RESET}` : text;
  }

  #pino(text: string): string | undefined {
    if (!text.startsWith('{')) return undefined;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    if (typeof entry.msg !== 'string') return undefined;
    const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
    const level = String(entry.level ?? '')
      .toUpperCase()
      .padEnd(5);
    const rest = Object.entries(entry)
      .filter(([key]) => !PINO_NOISE.has(key))
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ');
    return `${time} ${level} ${entry.msg}${rest ? ` ${this.dim(rest)}` : ''}`;
  }

  #record(text: string): string {
    try {
      const record = JSON.parse(text) as Record<string, unknown>;
      const file = typeof record.path === 'string' ? record.path.split('/').at(-1) : '?';
      // A multiline record (a line and its traceback) keeps its lines, indented under the first; a JSON
      // line's traceback (the log-sidecar's exc_info field) is shown the same way, after its fields.
      const indent = (text: string) => text.replaceAll('\n', `\n${' '.repeat(PREFIX_WIDTH + 2)}`);
      const fields = record.fields as Record<string, unknown> | undefined;
      let body: string;
      if (fields === undefined) body = indent(String(record.message));
      else if (typeof fields.exc_info === 'string') {
        const { exc_info: traceback, ...rest } = fields;
        body = indent(`${JSON.stringify(rest)}\nexc_info: ${traceback}`);
      } else body = JSON.stringify(fields);
      return `shipped ${this.dim(`[${file} ${String(record.id)}]`)} ${body}`;
    } catch {
      return `shipped (not JSON) ${text}`;
    }
  }
}
