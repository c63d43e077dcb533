import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

export interface ShippedRecord {
  time: string;
  path: string;
  id: string;
  labels: Record<string, string>;
  truncated?: boolean;
  message?: string;
  fields?: Record<string, unknown>;
}

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

/** Polls `check` until it returns a truthy value; fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const IS_ROOT = process.getuid?.() === 0;
const CAPS = '-dac_override,-dac_read_search';
/** Drops the capabilities from the inheritable and bounding sets: root's exec then never regains them. */
const SETPRIV_NO_READ_OVERRIDE = ['setpriv', `--inh-caps=${CAPS}`, `--bounding-set=${CAPS}`];

/** Whether `withoutReadOverride` can work here: not root, or root with setpriv available. */
export function canDropReadOverride(): boolean {
  if (!IS_ROOT) return true;
  return spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Arguments for a sidecar reading `dir/*.log` as raw lines into the ndjson HTTP sink at `url`, with its
 * checkpoint in `dir/ckpt` and a 100 ms batch timeout unless `extra` gives one.
 */
export function httpArgs(dir: string, url: URL, extra: readonly string[] = []): string[] {
  return [
    '--path',
    join(dir, '*.log'),
    '--format',
    'raw',
    '--checkpoint-dir',
    join(dir, 'ckpt'),
    '--sink',
    'http',
    '--sink-url',
    url.href,
    ...(extra.includes('--batch-timeout') ? [] : ['--batch-timeout', '100ms']),
    ...extra,
  ];
}

export function tempDir(prefix = 'log-sidecar-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface StartOptions {
  readonly env?: Record<string, string>;
  /**
   * Run without the capabilities that let root read any file (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so
   * file permissions apply to it. Unlike running as another user, the process can still read the
   * repository wherever it was cloned (CI clones under a `mktemp -d` directory, mode 0700). Needs
   * util-linux's `setpriv`; a no-op when not root.
   */
  readonly withoutReadOverride?: boolean;
  /** Leave stdout unread (to make the stdout sink block). */
  readonly stdoutUnread?: boolean;
}

/** The built binary as a child process, with its stdout records and stderr log lines collected. */
export class SidecarProcess {
  readonly child: ChildProcess;
  readonly records: ShippedRecord[] = [];
  readonly logs: LogLine[] = [];
  stderrText = '';
  port: number | undefined;
  exitCode: number | null | undefined;
  readonly exited: Promise<number | null>;
  #stdoutRest = '';
  #stderrRest = '';

  constructor(args: readonly string[], options: StartOptions = {}) {
    const command = [process.execPath, MAIN, '--listen', '127.0.0.1:0', ...args];
    // setpriv execs node in place: the child's pid is the sidecar's, so signals reach it directly.
    if (options.withoutReadOverride && IS_ROOT) command.unshift(...SETPRIV_NO_READ_OVERRIDE);
    this.child = spawn(command[0]!, command.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', ...options.env },
    });
    if (!options.stdoutUnread) {
      this.child.stdout!.setEncoding('utf8');
      this.child.stdout!.on('data', (chunk: string) => {
        const lines = (this.#stdoutRest + chunk).split('\n');
        this.#stdoutRest = lines.pop()!;
        for (const line of lines) this.records.push(JSON.parse(line) as ShippedRecord);
      });
    }
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      this.stderrText += chunk;
      const lines = (this.#stderrRest + chunk).split('\n');
      this.#stderrRest = lines.pop()!;
      for (const line of lines) {
        let parsed: LogLine;
        try {
          parsed = JSON.parse(line) as LogLine;
        } catch {
          continue;
        }
        this.logs.push(parsed);
        if (parsed.msg === 'Health server listening.') this.port = parsed.port as number;
      }
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      });
    });
  }

  /** Waits until /readyz answers 200. */
  async ready(timeoutMs = 15_000): Promise<void> {
    await waitFor(
      '/readyz to answer 200',
      async () => {
        if (this.exitCode !== undefined) throw new Error(`log-sidecar exited early:\n${this.stderrText}`);
        if (this.port === undefined) return false;
        return (await this.get('/readyz')).status === 200;
      },
      timeoutMs,
    );
  }

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

  messages(): string[] {
    return this.records.map((r) => r.message ?? JSON.stringify(r.fields));
  }

  logged(msg: string): LogLine[] {
    return this.logs.filter((l) => l.msg === msg);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGTERM and wait for the exit code. */
  async stop(): Promise<number | null> {
    if (this.exitCode !== undefined) return this.exitCode;
    this.signal('SIGTERM');
    return this.exited;
  }
}

/** Kills every process still running after a test. */
export class ProcessTracker {
  readonly #all: SidecarProcess[] = [];
  start(args: readonly string[], options?: StartOptions): SidecarProcess {
    const p = new SidecarProcess(args, options);
    this.#all.push(p);
    return p;
  }
  async cleanup(): Promise<void> {
    for (const p of this.#all.splice(0)) {
      if (p.exitCode === undefined) {
        p.signal('SIGKILL');
        await p.exited;
      }
    }
  }
}
