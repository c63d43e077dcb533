import { type ChildProcess, spawn } from 'node:child_process';
import { waitFor } from '../polling/wait-for.js';

/** A pino line of the process's stderr. */
export interface LogLine {
  level?: string | number;
  msg?: string;
  [key: string]: unknown;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface SpawnOptions<R = unknown> {
  /** The built entry point, e.g. `packages/log-sidecar/dist/main.js`; run by this Node. */
  readonly main: string;
  readonly args?: readonly string[];
  /** The child's environment on top of PATH (or of the whole parent environment with `inheritEnv`). */
  readonly env?: Record<string, string>;
  readonly inheritEnv?: boolean;
  /**
   * Commands that exec Node in place (e.g. `setpriv ...`), so the child's pid stays the program's and
   * signals reach it directly.
   */
  readonly prefix?: readonly string[];
  /** Leave stdout unread (to make a stdout writer block on a full pipe). */
  readonly stdoutUnread?: boolean;
  /** Turns each stdout line into a record; `JSON.parse` by default. */
  readonly parseRecord?: (line: string) => R;
  /** Named in errors; the entry point's path by default. */
  readonly name?: string;
}

/**
 * A built program (a sidecar or a fixture on the shared lifecycle) as a real child process: its stdout
 * lines parsed into `records`, its stderr pino lines into `logs`, the health port taken from its
 * "Health server listening." line.
 */
export class SidecarProcess<R = unknown> {
  readonly child: ChildProcess;
  readonly records: R[] = [];
  readonly logs: LogLine[] = [];
  stderrText = '';
  port: number | undefined;
  /** How it ended; undefined while it runs. */
  exit: ExitStatus | undefined;
  /** `Date.now()` when the exit was seen, for deadline checks. */
  exitedAt: number | undefined;
  readonly exited: Promise<ExitStatus>;
  readonly #name: string;
  readonly #gone = new AbortController();

  constructor(options: SpawnOptions<R>) {
    this.#name = options.name ?? options.main;
    const command = [...(options.prefix ?? []), process.execPath, options.main, ...(options.args ?? [])];
    const base = options.inheritEnv ? process.env : { PATH: process.env.PATH ?? '' };
    this.child = spawn(command[0]!, command.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...base, ...options.env },
    });
    if (!options.stdoutUnread) {
      const parse = options.parseRecord ?? ((line: string) => JSON.parse(line) as R);
      onLines(this.child.stdout!, (line) => this.records.push(parse(line)));
    }
    const appendStderr = (text: string) => {
      this.stderrText += text;
    };
    onLines(
      this.child.stderr!,
      (line) => {
        let parsed: LogLine;
        try {
          parsed = JSON.parse(line) as LogLine;
        } catch {
          return; // a config error is a plain line; it is in stderrText
        }
        this.logs.push(parsed);
        if (parsed.msg === 'Health server listening.') this.port = parsed.port as number;
      },
      appendStderr,
    );
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitedAt = Date.now();
        this.exit = { code, signal };
        this.#gone.abort(`${this.#name} exited (code ${code}, signal ${signal}):\n${this.stderrText}`);
        resolve(this.exit);
      });
    });
  }

  /** The exit code once it has exited (null when a signal ended it), undefined while it runs. */
  get exitCode(): number | null | undefined {
    return this.exit?.code;
  }

  get baseUrl(): string {
    if (this.port === undefined) throw new Error(`${this.#name} has not logged its health port yet`);
    return `http://127.0.0.1:${this.port}`;
  }

  /** Waits until /readyz answers 200 and returns the base URL; fails at once if the process exits. */
  async ready(timeoutMs = 20_000): Promise<string> {
    await waitFor(
      `${this.#name}'s /readyz to answer 200`,
      async () => this.port !== undefined && (await this.get('/readyz')).status === 200,
      { timeoutMs, signal: this.#gone.signal },
    );
    return this.baseUrl;
  }

  /** GET on the health port; status 0 when nothing answered. */
  async get(path: string): Promise<{ status: number; body: string }> {
    try {
      const response = await fetch(`http://127.0.0.1:${this.port}${path}`);
      return { status: response.status, body: await response.text() };
    } catch {
      return { status: 0, body: '' };
    }
  }

  /** Value of one sample in /metrics (0 when absent). */
  async metric(name: string): Promise<number> {
    const { body } = await this.get('/metrics');
    const line = body.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  }

  /** The stderr lines with this exact message. */
  logged(msg: string): LogLine[] {
    return this.logs.filter((l) => l.msg === msg);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGTERM and the exit code. */
  async stop(): Promise<number | null> {
    if (this.exit === undefined) this.signal('SIGTERM');
    return (await this.exited).code;
  }

  /** SIGKILL unless it has exited already, and wait for the exit. */
  async kill(): Promise<ExitStatus> {
    if (this.exit === undefined) this.signal('SIGKILL');
    return this.exited;
  }
}

/** Starts processes for a test file and kills whatever is still running in `afterEach`. */
export class ProcessTracker<A extends unknown[], P extends { kill(): Promise<unknown> }> {
  readonly #all: P[] = [];
  readonly #create: (...args: A) => P;

  constructor(create: (...args: A) => P) {
    this.#create = create;
  }

  start(...args: A): P {
    const process = this.#create(...args);
    this.#all.push(process);
    return process;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.#all.splice(0).map((p) => p.kill()));
  }
}

/** Calls `each` per complete line (empty lines skipped) and `chunk` per chunk of text. */
function onLines(
  stream: NodeJS.ReadableStream,
  each: (line: string) => void,
  chunk: (text: string) => void = () => {},
): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (text: string) => {
    chunk(text);
    const lines = (rest + text).split('\n');
    rest = lines.pop()!;
    for (const line of lines) if (line !== '') each(line);
  });
}
