import type { Logger } from 'pino';

/**
 * Thrown by a shutdown step for an expected outcome that makes the exit code 1 (records not delivered by
 * the deadline): logged as its message alone, since a stack trace would read like a bug.
 */
export class StepFailure extends Error {
  override readonly name = 'StepFailure';
}

export type LifecycleState = 'starting' | 'ready' | 'draining' | 'stopped';

export interface ShutdownContext {
  /** The hard deadline (ms since the epoch): at this instant the process exits with code 1. */
  readonly deadline: number;
  /** Aborted when the deadline passes, so a step can stop waiting and report what it had left. */
  readonly signal: AbortSignal;
  /** What started the shutdown, e.g. `SIGTERM`. */
  readonly reason: string;
}

export type ShutdownStep = (context: ShutdownContext) => Promise<void> | void;
export type ReadinessCheck = () => boolean;

export interface ReadinessReport {
  readonly ready: boolean;
  readonly state: LifecycleState;
  readonly checks: Readonly<Record<string, 'ok' | 'failing'>>;
}

export interface LifecycleOptions {
  readonly logger: Logger;
  readonly shutdownTimeoutMs: number;
  /** Ends the process; main passes process.exit, tests a spy. */
  readonly exit: (code: number) => void;
  readonly now?: () => number;
}

/** The part of `process` the lifecycle listens to; main.ts hands it over, nothing else touches process. */
export interface SignalSource {
  on(event: 'SIGTERM' | 'SIGINT', listener: (signal: NodeJS.Signals) => void): unknown;
  on(event: 'uncaughtException', listener: (error: Error) => void): unknown;
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
}

/**
 * starting -> ready -> draining -> stopped. Readiness is the conjunction of named checks while ready;
 * shutdown runs named steps in registration order under one deadline, armed before the first step runs.
 * A second signal or the deadline exits at once with code 1, naming the steps that had not finished.
 */
export class Lifecycle {
  #state: LifecycleState = 'starting';
  readonly #checks = new Map<string, ReadinessCheck>();
  readonly #steps: { name: string; run: ShutdownStep }[] = [];
  readonly #options: LifecycleOptions;
  readonly #now: () => number;
  #unfinished: string[] = [];
  #exitCode = 0;
  #exited = false;

  constructor(options: LifecycleOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get state(): LifecycleState {
    return this.#state;
  }

  addReadinessCheck(name: string, check: ReadinessCheck): void {
    if (this.#checks.has(name)) throw new Error(`readiness check "${name}" is registered twice`);
    this.#checks.set(name, check);
  }

  /** Steps run in the order they are added; add the health server's close last so /livez answers throughout. */
  addShutdownStep(name: string, run: ShutdownStep): void {
    this.#steps.push({ name, run });
  }

  markReady(): void {
    if (this.#state === 'starting') {
      this.#state = 'ready';
      this.#options.logger.info('Ready.');
    }
  }

  readiness(): ReadinessReport {
    const checks: Record<string, 'ok' | 'failing'> = {};
    let allOk = true;
    for (const [name, check] of this.#checks) {
      let ok: boolean;
      try {
        ok = check();
      } catch {
        ok = false;
      }
      checks[name] = ok ? 'ok' : 'failing';
      allOk &&= ok;
    }
    return { ready: this.#state === 'ready' && allOk, state: this.#state, checks };
  }

  installProcessHandlers(source: SignalSource): void {
    const onSignal = (signal: NodeJS.Signals) => void this.shutdown(signal);
    source.on('SIGTERM', onSignal);
    source.on('SIGINT', onSignal);
    source.on('uncaughtException', (error: Error) => this.fail(error, 'uncaught exception'));
    source.on('unhandledRejection', (reason: unknown) => this.fail(reason, 'unhandled rejection'));
  }

  /** Logs a fatal error and runs the normal shutdown, which then ends with exit code 1. */
  fail(error: unknown, kind: string): void {
    this.#exitCode = 1;
    this.#options.logger.error({ err: error }, `Stopping after an ${kind}.`);
    if (this.#state !== 'draining' && this.#state !== 'stopped') void this.shutdown(kind, 1);
  }

  /**
   * Starts the shutdown; resolves when it has ended (the process has been told to exit). A call while
   * already draining is the "second signal": exit now.
   */
  async shutdown(reason: string, exitCode = 0): Promise<void> {
    const log = this.#options.logger;
    if (this.#state === 'stopped') return;
    if (this.#state === 'draining') {
      log.error({ reason, unfinished: this.#unfinished }, 'Second signal during shutdown; exiting now.');
      this.#exit(1);
      return;
    }
    this.#state = 'draining';
    this.#exitCode = Math.max(this.#exitCode, exitCode);
    const deadline = this.#now() + this.#options.shutdownTimeoutMs;
    const abort = new AbortController();
    const timer = setTimeout(() => {
      abort.abort();
      log.error(
        { reason, unfinished: this.#unfinished, shutdownTimeoutMs: this.#options.shutdownTimeoutMs },
        'Shutdown deadline passed; exiting.',
      );
      this.#exit(1);
    }, this.#options.shutdownTimeoutMs);
    log.info({ reason, shutdownTimeoutMs: this.#options.shutdownTimeoutMs }, 'Shutting down.');

    this.#unfinished = this.#steps.map((step) => step.name);
    const context: ShutdownContext = { deadline, signal: abort.signal, reason };
    for (const step of this.#steps) {
      if (this.#exited) return;
      try {
        await step.run(context);
      } catch (error) {
        this.#exitCode = 1;
        // An expected, documented outcome (the deadline report, say) is its one line, without a stack.
        if (error instanceof StepFailure) log.error({ step: step.name }, error.message);
        else log.error({ err: error, step: step.name }, 'Shutdown step failed; going on with the next.');
      }
      this.#unfinished = this.#unfinished.filter((name) => name !== step.name);
    }
    clearTimeout(timer);
    if (this.#exited) return;
    this.#state = 'stopped';
    log.info({ reason, exitCode: this.#exitCode }, 'Shutdown complete.');
    this.#exit(this.#exitCode);
  }

  #exit(code: number): void {
    if (this.#exited) return;
    this.#exited = true;
    this.#state = 'stopped';
    this.#options.exit(code);
  }
}
