import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import type { ExitStatus, LineListener, OutputStream, StopReport } from '../managed-process.js';
import { ManagedProcess, stopWithGrace } from '../managed-process.js';
import type { PodContainer, RunningContainer } from '../pod.js';
import { type DockerEngine, docker } from './docker-cli.js';

/** One container of the Pod as `docker run` arguments, translated from the manifest. */
export interface DockerContainerSpec extends PodContainer {
  readonly image: string;
  /** Each instance is named this plus a random suffix (a restart is a new container, as on the kubelet). */
  readonly baseName: string;
  /** Everything between `docker run -d` and the image: user, mounts, env, hardening, namespace. */
  readonly runArgs: readonly string[];
  /** After the image: the manifest's command (after the first word) and args. */
  readonly argv: readonly string[];
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]),
);

/**
 * A container of the engine, seen the way the Pod sees a process: its output in lines (`docker logs
 * -f`, stdout and stderr apart), its exit (`docker wait`; 128+n is reported as killed by signal n, as
 * the kubelet reads it), and a stop that escalates from a signal to SIGKILL after a grace period.
 */
export class DockerContainer implements RunningContainer {
  readonly id: string;
  readonly exited: Promise<ExitStatus>;
  readonly #engine: DockerEngine;
  readonly #logs: ManagedProcess;
  #exit: ExitStatus | undefined;

  private constructor(engine: DockerEngine, id: string, name: string, onLine: LineListener | undefined) {
    this.#engine = engine;
    this.id = id;
    this.#logs = new ManagedProcess(
      { name, command: engine.cli, args: ['logs', '--follow', id], env: engine.env },
      onLine,
    );
    const waited = docker(engine, ['wait', id], { timeoutMs: 2 ** 31 - 1 }).then(
      (code) => {
        const number = Number(code);
        const signal = number > 128 ? (SIGNAL_NAMES.get(number - 128) ?? null) : null;
        return { code: number, signal, at: Date.now() };
      },
      // The container is gone (removed): no exit code to report.
      () => ({ code: null, signal: null, at: Date.now() }),
    );
    // Resolved once the last lines are in too, so whoever reads the exit also sees what it said last.
    this.exited = Promise.all([waited, this.#logs.exited]).then(([exit]) => {
      this.#exit = exit;
      return exit;
    });
  }

  /** `docker run -d` of the spec; `track` learns the id before anything else can fail. */
  static async start(
    engine: DockerEngine,
    spec: DockerContainerSpec,
    onLine: LineListener | undefined,
    track: (id: string) => void,
  ): Promise<DockerContainer> {
    const name = `${spec.baseName}-${randomBytes(3).toString('hex')}`;
    const id = await docker(engine, [
      'run',
      '--detach',
      '--name',
      name,
      ...spec.runArgs,
      spec.image,
      ...spec.argv,
    ]);
    track(id);
    return new DockerContainer(engine, id, spec.name, onLine);
  }

  get identity(): string {
    return `container ${this.id.slice(0, 12)}`;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  tail(count = 10, stream?: OutputStream): string[] {
    return this.#logs.tail(count, stream);
  }

  onLine(listener: LineListener): () => void {
    return this.#logs.onLine(listener);
  }

  waitForLine(
    what: string,
    match: (text: string, stream: OutputStream) => boolean,
    timeoutMs?: number,
  ): Promise<string> {
    return this.#logs.waitForLine(what, match, timeoutMs);
  }

  /** `docker kill --signal`, for a test's fault or the runtime's stop. */
  async signal(signal: NodeJS.Signals): Promise<void> {
    if (this.running)
      await docker(this.#engine, ['kill', '--signal', signal, this.id]).catch(() => undefined);
  }

  stop(signal: NodeJS.Signals, graceMs: number): Promise<StopReport> {
    return stopWithGrace(this, (sent) => this.signal(sent), signal, graceMs);
  }

  kill(): void {
    void this.signal('SIGKILL');
  }
}
