import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LineSplitter } from './line-splitter.js';

export type OutputStream = 'stdout' | 'stderr';

/** How to run one program. */
export interface ProcessSpec {
  /** Name used in the output prefix and in reports, e.g. `log-sidecar`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  /** The complete environment of the child (the runner decides what it inherits). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** When the exit was observed (ms since the epoch). */
  readonly at: number;
}

export interface StopReport {
  readonly exit: ExitStatus;
  /** True when the grace period ran out and the process got SIGKILL. */
  readonly killed: boolean;
  /** From the first signal to the exit. */
  readonly tookMs: number;
}

export type LineListener = (stream: OutputStream, text: string) => void;

const SETPRIV = '/usr/bin/setpriv';
const TAIL_LINES = 200;

/**
 * One child process of the runner, with its output cut into lines, a bounded tail of them kept for
 * reports, and a stop that escalates from a signal to SIGKILL after a grace period.
 *
 * The child never outlives the runner: where util-linux's `setpriv` exists, the child is started through
 * it with a parent-death signal (SIGKILL), which the kernel delivers even when the runner itself is
 * SIGKILLed; the runner also kills every child on its own exit. Each child gets its own process group so
 * that a Ctrl-C in the terminal reaches only the runner, which then stops the children in the kubelet's
 * order instead of all at once.
 */
export class ManagedProcess {
  readonly spec: ProcessSpec;
  readonly startedAt: number;
  readonly exited: Promise<ExitStatus>;
  readonly #child: ChildProcess;
  readonly #tail: { stream: OutputStream; text: string }[] = [];
  readonly #listeners = new Set<LineListener>();
  #exit: ExitStatus | undefined;
  #spawnError: Error | undefined;

  constructor(spec: ProcessSpec, onLine?: LineListener) {
    this.spec = spec;
    if (onLine) this.#listeners.add(onLine);
    const guarded = existsSync(SETPRIV);
    const command = guarded ? SETPRIV : spec.command;
    const args = guarded ? ['--pdeathsig', 'SIGKILL', '--', spec.command, ...spec.args] : [...spec.args];
    this.startedAt = Date.now();
    this.#child = spawn(command, args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const splitter = new LineSplitter((text) => this.#line(stream, text));
      const source = this.#child[stream]!;
      source.setEncoding('utf8');
      source.on('data', (chunk: string) => splitter.push(chunk));
      source.on('end', () => splitter.end());
    }
    this.exited = new Promise((resolve) => {
      this.#child.once('error', (error) => {
        // spawn failed (ENOENT, EACCES): there will be no 'exit' event for a process that never ran.
        this.#spawnError = error;
        if (this.#child.pid === undefined)
          this.#settle({ code: null, signal: null, at: Date.now() }, resolve);
      });
      // 'close' waits for the output pipes to end too, so the last lines are in the tail before anyone
      // reads the exit.
      this.#child.once('close', (code, signal) => this.#settle({ code, signal, at: Date.now() }, resolve));
    });
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get identity(): string {
    return `pid ${this.#child.pid ?? '?'}`;
  }

  get running(): boolean {
    return this.#exit === undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  get exitStatus(): ExitStatus | undefined {
    return this.#exit;
  }

  get spawnError(): Error | undefined {
    return this.#spawnError;
  }

  /** The last lines the process wrote (both streams, in order), for reports and error messages. */
  tail(count = 10, stream?: OutputStream): string[] {
    const lines = stream ? this.#tail.filter((line) => line.stream === stream) : this.#tail;
    return lines.slice(-count).map((line) => line.text);
  }

  onLine(listener: LineListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Resolves with the first line (from now on, or still in the tail) that `match` accepts; rejects when
   * the process exits first or the timeout passes, quoting the last lines.
   */
  waitForLine(
    what: string,
    match: (text: string, stream: OutputStream) => boolean,
    timeoutMs = 10_000,
  ): Promise<string> {
    const seen = this.#tail.find((line) => match(line.text, line.stream));
    if (seen) return Promise.resolve(seen.text);
    return new Promise((resolve, reject) => {
      const done = (finish: () => void) => {
        clearTimeout(timer);
        unsubscribe();
        finish();
      };
      const unsubscribe = this.onLine((stream, text) => {
        if (match(text, stream)) done(() => resolve(text));
      });
      const timer = setTimeout(
        () =>
          done(() => reject(new Error(`${this.name}: timed out waiting for ${what}${this.#lastLines()}`))),
        timeoutMs,
      );
      void this.exited.then((exit) =>
        done(() =>
          reject(new Error(`${this.name} ${describeExit(exit)} before ${what}${this.#lastLines()}`)),
        ),
      );
    });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.#child.kill(signal);
  }

  /** Sends `signal`, waits up to `graceMs` for the exit, then SIGKILLs (the kubelet's escalation). */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<StopReport> {
    return stopWithGrace(this, (sent) => this.#child.kill(sent), signal, graceMs);
  }

  /** SIGKILL now, without waiting; for cleanup paths. */
  kill(): void {
    if (this.running) this.#child.kill('SIGKILL');
  }

  #line(stream: OutputStream, text: string): void {
    this.#tail.push({ stream, text });
    if (this.#tail.length > TAIL_LINES) this.#tail.splice(0, this.#tail.length - TAIL_LINES);
    for (const listener of this.#listeners) listener(stream, text);
  }

  #settle(exit: ExitStatus, resolve: (exit: ExitStatus) => void): void {
    if (this.#exit) return;
    this.#exit = exit;
    resolve(exit);
  }

  #lastLines(): string {
    const lines = this.tail(8);
    const spawn = this.#spawnError ? `\n  (could not start: ${this.#spawnError.message})` : '';
    return lines.length === 0 ? spawn : `${spawn}; its last lines:\n  ${lines.join('\n  ')}`;
  }
}

export function describeExit(exit: ExitStatus): string {
  if (exit.signal) return `was killed by ${exit.signal}`;
  if (exit.code === null) return 'could not be started';
  return `exited with code ${exit.code}`;
}

/**
 * The kubelet's escalation, for a process or a container alike: `signal`, up to `graceMs` for the exit,
 * then SIGKILL.
 */
export async function stopWithGrace(
  target: { readonly running: boolean; readonly exited: Promise<ExitStatus> },
  send: (signal: NodeJS.Signals) => unknown,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<StopReport> {
  const sentAt = Date.now();
  if (!target.running) return { exit: await target.exited, killed: false, tookMs: 0 };
  await send(signal);
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([
    target.exited.then(() => true),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (!inTime) await send('SIGKILL');
  const exit = await target.exited;
  return { exit, killed: !inTime, tookMs: exit.at - sentAt };
}
