import { waitFor } from '@agent-sidecars/shared';
import { probePasses } from './http-probe.js';
import {
  describeExit,
  type ExitStatus,
  ManagedProcess,
  type OutputStream,
  type ProcessSpec,
} from './managed-process.js';

/** One container of the Pod: a process plus the probe the kubelet would run before starting the next. */
export interface ContainerSpec extends ProcessSpec {
  /** `sidecar`: an init container with `restartPolicy: Always`; `app`: the regular container. */
  readonly role: 'sidecar' | 'app';
  /** Polled until it answers 2xx/3xx (the startupProbe); the next container starts only then. */
  readonly startupProbe: string;
}

export type PodEventKind = 'started' | 'probe passed' | 'signalled' | 'killed' | 'exited';

export interface PodEvent {
  readonly at: number;
  readonly container: string;
  readonly kind: PodEventKind;
  readonly detail?: string;
}

export interface PodOptions {
  /** In start order; they are stopped in the reverse order. */
  readonly sidecars: readonly ContainerSpec[];
  readonly app: ContainerSpec;
  /** The Pod's `terminationGracePeriodSeconds`, shared by every container's shutdown. */
  readonly terminationGracePeriodMs: number;
  /** How long each container may take to pass its startup probe. */
  readonly startupTimeoutMs?: number;
  readonly onLine?: (container: string, stream: OutputStream, text: string) => void;
  readonly onEvent?: (event: PodEvent) => void;
}

export interface ContainerTermination {
  readonly name: string;
  readonly role: 'sidecar' | 'app';
  readonly exit: ExitStatus;
  /** The grace period ran out and the container got SIGKILL. */
  readonly killed: boolean;
  /** It had exited (crashed, or was killed) before the termination reached it: no signal was sent. */
  readonly alreadyExited: boolean;
  /** From SIGTERM to exit. */
  readonly tookMs: number;
  /** The container's last lines on stderr (its own log), what it said on its way out. */
  readonly lastLines: readonly string[];
}

export interface TerminationReport {
  /** In the order they were stopped: the app, then the sidecars in reverse start order. */
  readonly containers: readonly ContainerTermination[];
  readonly tookMs: number;
}

/** The kubelet never gives a container less than this once the grace period is spent (its minimum). */
const MINIMUM_GRACE_MS = 2_000;

/**
 * A process-level Pod: the kubelet's start order and stop order with real processes, not a container
 * runtime (no namespaces, images or cgroups). Native sidecars start one at a time, each only once the
 * previous one passed its startup probe; the app starts after all of them. On termination the app gets
 * SIGTERM first and is waited for, then the sidecars one at a time in reverse order, all within one
 * grace period, with SIGKILL for whoever is still running when it is spent.
 */
export class Pod {
  readonly events: PodEvent[] = [];
  readonly #options: PodOptions;
  readonly #current = new Map<string, ManagedProcess>();
  #terminating = false;

  constructor(options: PodOptions) {
    const names = [...options.sidecars, options.app].map((container) => container.name);
    if (new Set(names).size !== names.length)
      throw new Error(`container names must be unique: ${names.join(', ')}`);
    this.#options = options;
  }

  /** Starts the sidecars in order, each after the previous one passed its startup probe. */
  async startSidecars(): Promise<void> {
    for (const spec of this.#options.sidecars) await this.#startContainer(spec);
  }

  /** Starts the app and waits for its probe, so traffic can be driven. */
  async startApp(): Promise<void> {
    for (const spec of this.#options.sidecars) {
      const process = this.#current.get(spec.name);
      if (!process?.running)
        throw new Error(`the app must start after every sidecar runs; ${spec.name} does not`);
    }
    await this.#startContainer(this.#options.app);
  }

  async start(): Promise<void> {
    await this.startSidecars();
    await this.startApp();
  }

  /** The running (or last) process of a container. */
  container(name: string): ManagedProcess {
    const process = this.#current.get(name);
    if (!process) throw new Error(`container ${name} has not been started`);
    return process;
  }

  get containerNames(): readonly string[] {
    return [...this.#options.sidecars, this.#options.app].map((container) => container.name);
  }

  /**
   * What the kubelet does when a native sidecar dies (OOM kill, failed liveness probe): SIGKILL, then a
   * new process with the same spec, probed again. The app keeps running throughout.
   */
  async killAndRestart(name: string): Promise<ManagedProcess> {
    const spec = this.#options.sidecars.find((container) => container.name === name);
    if (!spec) throw new Error(`${name} is not a sidecar of this Pod`);
    const old = this.container(name);
    old.kill();
    this.#event(name, 'killed', 'SIGKILL (restart)');
    await old.exited;
    return this.#startContainer(spec);
  }

  /** The kubelet's termination: app first, then the sidecars in reverse start order, one grace period. */
  async terminate(): Promise<TerminationReport> {
    this.#terminating = true;
    const startedAt = Date.now();
    const deadline = startedAt + this.#options.terminationGracePeriodMs;
    const order = [this.#options.app, ...[...this.#options.sidecars].reverse()];
    const containers: ContainerTermination[] = [];
    for (const spec of order) {
      const process = this.#current.get(spec.name);
      if (!process) continue;
      const graceMs = Math.max(deadline - Date.now(), MINIMUM_GRACE_MS);
      const alreadyExited = !process.running;
      if (process.running) this.#event(spec.name, 'signalled', `SIGTERM, ${graceMs} ms of grace left`);
      const stop = await process.stop('SIGTERM', graceMs);
      if (stop.killed) this.#event(spec.name, 'killed', 'SIGKILL: the grace period ran out');
      containers.push({
        name: spec.name,
        role: spec.role,
        exit: stop.exit,
        killed: stop.killed,
        alreadyExited,
        tookMs: stop.tookMs,
        lastLines: process.tail(6, 'stderr'),
      });
    }
    return { containers, tookMs: Date.now() - startedAt };
  }

  /** SIGKILL to every process at once: for cleanup after a failure, not a graceful stop. */
  kill(): void {
    this.#terminating = true;
    for (const process of this.#current.values()) process.kill();
  }

  /** Resolves when every process has exited (after kill() or terminate()). */
  async exited(): Promise<void> {
    await Promise.all([...this.#current.values()].map((process) => process.exited));
  }

  async #startContainer(spec: ContainerSpec): Promise<ManagedProcess> {
    if (this.#terminating) throw new Error(`the Pod is terminating; not starting ${spec.name}`);
    const onLine = this.#options.onLine;
    const process = new ManagedProcess(
      spec,
      onLine ? (stream, text) => onLine(spec.name, stream, text) : undefined,
    );
    this.#current.set(spec.name, process);
    this.#event(spec.name, 'started', `pid ${process.pid ?? '?'}`);
    void process.exited.then((exit) => this.#event(spec.name, 'exited', describeExit(exit)));
    const gone = new AbortController();
    void process.exited.then((exit) =>
      gone.abort(`${spec.name} ${describeExit(exit)}; its last lines:\n  ${process.tail(8).join('\n  ')}`),
    );
    await waitFor(
      `${spec.name}'s startup probe ${spec.startupProbe}`,
      async () => ((await probePasses(spec.startupProbe)) ? true : undefined),
      { timeoutMs: this.#options.startupTimeoutMs ?? 20_000, intervalMs: 50, signal: gone.signal },
    );
    this.#event(spec.name, 'probe passed', spec.startupProbe);
    return process;
  }

  #event(container: string, kind: PodEventKind, detail?: string): void {
    const event: PodEvent = { at: Date.now(), container, kind, ...(detail === undefined ? {} : { detail }) };
    this.events.push(event);
    this.#options.onEvent?.(event);
  }
}
