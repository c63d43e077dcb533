import { type Lifecycle, type Logger, type ShutdownContext, StepFailure } from '@agent-sidecars/shared';
import type { Registry } from 'prom-client';
import type { CheckpointStore } from './checkpoint/checkpoint-store.js';
import { Checkpointer } from './checkpoint/checkpointer.js';
import { deadlineSummary } from './deadline-summary.js';
import type { Delivery, DrainReport } from './delivery/delivery.js';
import { SourceEvents } from './events.js';
import type { RecordBuilder } from './record-builder.js';
import { FileDiscovery } from './source/file-discovery.js';
import { FileServer } from './source/file-server.js';
import type { MultilineMode } from './source/multiline.js';
import { SourceMetrics } from './source-metrics.js';

export interface PipelineOptions {
  readonly delivery: Delivery;
  readonly store: CheckpointStore;
  readonly builder: RecordBuilder;
  readonly registry: Registry;
  readonly logger: Logger;
  /** What discovery looks for (see DiscoveryOptions). */
  readonly discovery: {
    readonly patterns: readonly string[];
    readonly excludes: readonly string[];
    readonly intervalMs: number;
    readonly cwd: string;
    readonly followRotated: boolean;
  };
  readonly maxLineBytes: number;
  readonly multiline: MultilineMode;
  readonly multilineTimeoutMs: number;
  readonly readBufferBytes: number;
  readonly readIntervalMs: number;
  /** Files held open at a time (`--max-open-files`). */
  readonly maxOpenFiles: number;
  readonly rotateWaitMs: number;
  readonly checkpointIntervalMs: number;
  readonly checkpointGraceMs: number;
  /** Kept back before the shutdown deadline to write the final checkpoint and the report. */
  readonly deadlineMarginMs: number;
  readonly now?: () => number;
}

/**
 * Connects the parts (DESIGN.md §3): discovery -> file server -> delivery -> checkpointer, and runs the
 * shutdown sequence (§4). Each part's work is in its own file; this one only wires and orders them.
 */
export class Pipeline {
  readonly #delivery: Delivery;
  readonly #events: SourceEvents;
  readonly #checkpointer: Checkpointer;
  readonly #server: FileServer;
  readonly #discovery: FileDiscovery;
  readonly #options: PipelineOptions;
  #checkpointTimer: NodeJS.Timeout | undefined;
  #readTimer: NodeJS.Timeout | undefined;

  constructor(options: PipelineOptions) {
    const now = options.now ?? Date.now;
    const { delivery, logger } = options;
    this.#options = options;
    this.#delivery = delivery;
    const metrics = new SourceMetrics(
      options.registry,
      () => this.#server.files(),
      () => this.#server.unreadFiles(),
    );
    const events = new SourceEvents(logger, metrics, now);
    this.#events = events;
    this.#checkpointer = new Checkpointer({
      store: options.store,
      sinkNames: delivery.sinkNames,
      events,
      graceMs: options.checkpointGraceMs,
      now,
    });
    delivery.onAck(this.#checkpointer.onAck);
    this.#server = new FileServer({ ...options, checkpointer: this.#checkpointer, events, now });
    this.#discovery = new FileDiscovery({
      ...options.discovery,
      events,
      onScan: this.#server.reconcile,
      rotatedMaxAgeMs: options.checkpointGraceMs,
      now,
    });
  }

  /** True while discovery runs: readiness depends on it, never on files existing. */
  get running(): boolean {
    return this.#discovery.running;
  }

  /** Starts the periodic checkpoint writes and read ticks, then discovery (its first scan included). */
  async start(): Promise<void> {
    this.#checkpointTimer = setInterval(() => this.#writeCheckpoint(), this.#options.checkpointIntervalMs);
    this.#readTimer = setInterval(this.#server.tick, this.#options.readIntervalMs);
    await this.#discovery.start();
  }

  /** Adds the shutdown sequence to `lifecycle`; the caller adds closing the rest after it. */
  addShutdownSteps(lifecycle: Pick<Lifecycle, 'addShutdownStep'>): void {
    const softDeadline = (context: ShutdownContext) => context.deadline - this.#options.deadlineMarginMs;
    let drainReport: DrainReport | undefined;
    lifecycle.addShutdownStep('stop discovery', () => {
      clearInterval(this.#readTimer);
      return this.#discovery.stop();
    });
    lifecycle.addShutdownStep('read files to their end', async (context) => {
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), Math.max(0, softDeadline(context) - Date.now()));
      const onHardAbort = () => abort.abort();
      context.signal.addEventListener('abort', onHardAbort, { once: true });
      try {
        await this.#server.readToEnd(abort.signal);
      } finally {
        clearTimeout(timer);
        context.signal.removeEventListener('abort', onHardAbort);
      }
    });
    lifecycle.addShutdownStep('deliver', async (context) => {
      drainReport = await this.#delivery.drain(softDeadline(context));
    });
    lifecycle.addShutdownStep('write the final checkpoint', () => {
      clearInterval(this.#checkpointTimer);
      // A checkpoint that cannot be saved costs duplicates after a restart, never a line: it does not make
      // the exit code 1, which means "not delivered" (the report step decides that).
      if (!this.#writeCheckpoint()) this.#events.finalCheckpointFailed(this.#options.store.path);
    });
    lifecycle.addShutdownStep('report', () => {
      // The one deadline report: per sink and file, the records read but not settled and the bytes past
      // the settled offset (unread ones included). The delivery adds one line if it wrote records to stdout.
      const shortfall = this.#checkpointer.shortfall(this.#server.openFiles(), drainReport);
      if (shortfall.length === 0 && drainReport?.complete !== false) return;
      for (const file of shortfall) this.#events.notDelivered(file);
      // Expected and documented: its own line, exit 1, no stack trace.
      throw new StepFailure(deadlineSummary(shortfall));
    });
  }

  /** Stops reading for good, closes every file and the sinks. */
  async close(): Promise<void> {
    clearInterval(this.#readTimer);
    clearInterval(this.#checkpointTimer);
    await this.#server.close();
    await this.#delivery.close();
  }

  #writeCheckpoint(): boolean {
    this.#server.markOpenFiles();
    return this.#checkpointer.write(this.#server.liveKeys());
  }
}
