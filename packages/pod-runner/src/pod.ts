import { waitFor } from '@agent-sidecars/shared';
import { probePasses } from './http-probe.js';
import {
  describeExit,
  type ExitStatus,
  type LineListener,
  ManagedProcess,
  type OutputStream,
  type ProcessSpec,
  type StopReport,
} from './managed-process.js';

/** What the Pod needs to know of any container, whatever runs it. */
export interface PodContainer {
  readonly name: string;
  /** `sidecar`: an init container with `restartPolicy: Always`; `app`: the regular container. */
  readonly role: 'sidecar' | 'app';
  /**
   * Polled until it answers 2xx/3xx (the startupProbe); the next container starts only then. Without
   * one, a container counts as started as soon as it runs, as on the kubelet.
   */
  readonly startupProbe?: string;
  /** How often the startup probe is polled (its periodSeconds); 50 ms when not set. */
  readonly startupProbeIntervalMs?: number;
  /** How long it may take to pass (initialDelaySeconds + failureThreshold x periodSeconds). */
  readonly startupTimeoutMs?: number;
}

/** One container of the Pod as a local process: a process plus its startup probe. */
export interface ContainerSpec extends ProcessSpec, PodContainer {
  readonly startupProbe: string;
}

/** A started container: a local process ({@link ManagedProcess}) or a container of an engine. */
export interface RunningContainer {
  /** How the runtime names this instance, e.g. `pid 4242` or `container 3f2a...`. */
  readonly identity: string;
  readonly running: boolean;
  readonly exited: Promise<ExitStatus>;
  tail(count?: number, stream?: OutputStream): string[];
  /** Sends `signal`, waits up to `graceMs`, then SIGKILLs. */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<StopReport>;
  /** SIGKILL now, without waiting; for cleanup paths. */
  kill(): void;
}

/** Starts one container of a spec; the Pod decides when. */
export type ContainerStarter<S extends PodContainer, C extends RunningContainer> = (
  spec: S,
  onLine: LineListener | undefined,
) => C | Promise<C>;

export type PodEventKind = 'started' | 'probe passed' | 'signalled' | 'killed' | 'exited' | 'restarting';

export interface PodEvent {
  readonly at: number;
  readonly container: string;
  readonly kind: PodEventKind;
  readonly detail?: string;
}

export interface PodOptions<S extends PodContainer = ContainerSpec> {
  /** In start order; they are stopped in the reverse order. */
  readonly sidecars: readonly S[];
  readonly app: S;
  /** The Pod's `terminationGracePeriodSeconds`, shared by every container's shutdown. */
  readonly terminationGracePeriodMs: number;
  /** How long each container may take to pass its startup probe. */
  readonly startupTimeoutMs?: number;
  readonly onLine?: (container: string, stream: OutputStream, text: string) => void;
  readonly onEvent?: (event: PodEvent) => void;
  /**
   * What the kubelet does for `restartPolicy: Always` on a native sidecar: one that exits while the Pod
   * runs is started again (and probed again). Off by default: the process-level tests restart on cue.
   */
  readonly restartSidecars?: boolean;
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
export class Pod<S extends PodContainer = ContainerSpec, C extends RunningContainer = ManagedProcess> {
  readonly events: PodEvent[] = [];
  readonly #options: PodOptions<S>;
  readonly #start: ContainerStarter<S, C>;
  readonly #current = new Map<string, C>();
  /** Containers being restarted by killAndRestart(), which the automatic restart leaves alone. */
  readonly #restarting = new Set<string>();
  /** Instances whose startup probe passed. */
  readonly #probed = new WeakSet<C>();
  #terminating = false;

  /** With local processes, or with `start` for another runtime (the container backend). */
  constructor(options: PodOptions<S> & (S extends ContainerSpec ? object : never));
  constructor(options: PodOptions<S>, start: ContainerStarter<S, C>);
  constructor(options: PodOptions<S>, start?: ContainerStarter<S, C>) {
    const names = [...options.sidecars, options.app].map((container) => container.name);
    if (new Set(names).size !== names.length)
      throw new Error(`container names must be unique: ${names.join(', ')}`);
    this.#options = options;
    this.#start =
      start ??
      ((spec, onLine) => new ManagedProcess(spec as unknown as ContainerSpec, onLine) as unknown as C);
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
  container(name: string): C {
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
  async killAndRestart(name: string): Promise<C> {
    const spec = this.#options.sidecars.find((container) => container.name === name);
    if (!spec) throw new Error(`${name} is not a sidecar of this Pod`);
    const old = this.container(name);
    this.#restarting.add(name);
    try {
      old.kill();
      this.#event(name, 'killed', 'SIGKILL (restart)');
      await old.exited;
      return await this.#startContainer(spec);
    } finally {
      this.#restarting.delete(name);
    }
  }

  /**
   * Resolves with the container's next instance once it passed its startup probe (`restartSidecars`);
   * `old` is the instance that died.
   */
  async restarted(name: string, old: C, timeoutMs = 60_000): Promise<C> {
    await old.exited;
    return waitFor(
      `${name} to be restarted and pass its startup probe`,
      () => {
        const current = this.#current.get(name);
        return current && current !== old && current.running && this.#probed.has(current)
          ? current
          : undefined;
      },
      { timeoutMs, intervalMs: 50 },
    );
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

  async #startContainer(spec: S): Promise<C> {
    if (this.#terminating) throw new Error(`the Pod is terminating; not starting ${spec.name}`);
    const onLine = this.#options.onLine;
    const process = await this.#start(
      spec,
      onLine ? (stream, text) => onLine(spec.name, stream, text) : undefined,
    );
    this.#current.set(spec.name, process);
    this.#event(spec.name, 'started', process.identity);
    void process.exited.then((exit) => {
      this.#event(spec.name, 'exited', describeExit(exit));
      const restart =
        this.#options.restartSidecars === true &&
        spec.role === 'sidecar' &&
        !this.#terminating &&
        !this.#restarting.has(spec.name) &&
        this.#current.get(spec.name) === process;
      if (!restart) return;
      this.#event(spec.name, 'restarting', 'restartPolicy: Always');
      this.#startContainer(spec).catch((error: Error) =>
        this.#event(spec.name, 'exited', `could not be restarted: ${error.message}`),
      );
    });
    const gone = new AbortController();
    void process.exited.then((exit) =>
      gone.abort(`${spec.name} ${describeExit(exit)}; its last lines:\n  ${process.tail(8).join('\n  ')}`),
    );
    const probe = spec.startupProbe;
    if (probe === undefined) {
      this.#probed.add(process);
      return process;
    }
    await waitFor(
      `${spec.name}'s startup probe ${probe}`,
      async () => ((await probePasses(probe)) ? true : undefined),
      {
        timeoutMs: spec.startupTimeoutMs ?? this.#options.startupTimeoutMs ?? 20_000,
        intervalMs: spec.startupProbeIntervalMs ?? 50,
        signal: gone.signal,
      },
    );
    this.#probed.add(process);
    this.#event(spec.name, 'probe passed', probe);
    return process;
  }

  #event(container: string, kind: PodEventKind, detail?: string): void {
    const event: PodEvent = { at: Date.now(), container, kind, ...(detail === undefined ? {} : { detail }) };
    this.events.push(event);
    this.#options.onEvent?.(event);
  }
}
