import { type Lifecycle, type Logger, type ShutdownContext, StepFailure } from '@agent-sidecars/shared';
import type { Registry } from 'prom-client';
import type { CheckpointStore } from './checkpoint/checkpoint-store.js';
import { Checkpointer, type FileShortfall } from './checkpoint/checkpointer.js';
import { deadlineSummary } from './deadline-summary.js';
import type { SpillOutcome } from './delivery/deadline-spill.js';
import type { Delivery, DrainReport } from './delivery/delivery.js';
import { SourceEvents } from './events.js';
import type { RecordBuilder } from './record-builder.js';
import { DirectoryWatch } from './source/directory-watch.js';
import { FileDiscovery } from './source/file-discovery.js';
import { FileServer } from './source/file-server.js';
import type { MultilineMode } from './source/multiline.js';
import { PollTimer } from './source/poll-timer.js';
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
  /** While nothing changes, reads and scans back off to this (`--max-poll-interval`). */
  readonly maxPollIntervalMs: number;
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
  readonly #watch: DirectoryWatch;
  readonly #readTimer: PollTimer;
  #checkpointTimer: NodeJS.Timeout | undefined;

  constructor(options: PipelineOptions) {
    const now = options.now ?? Date.now;
    const { delivery, logger } = options;
    this.#options = options;
    this.#delivery = delivery;
    const metrics = new SourceMetrics(
      options.registry,
      () => this.#server.files(),
      () => this.#server.unreadFiles(),
      () => this.#readTimer.waitMs,
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
    // Reads and scans poll; while nothing changes they back off, and a watch armed only then wakes both.
    this.#watch = new DirectoryWatch({
      onChange: () => {
        events.watchWoke();
        this.#readTimer.wake();
        this.#discovery.wake();
      },
      onUnwatchable: (directory, code) => events.cannotWatch(directory, code),
      now,
    });
    const activity = () => this.#server.chunksRead + this.#discovery.changes + this.#watch.events;
    const quiet = () => this.#watch.arm(this.#discovery.directories);
    this.#readTimer = new PollTimer({
      baseMs: options.readIntervalMs,
      maxMs: options.maxPollIntervalMs,
      activity,
      run: this.#server.tick,
      onQuiet: quiet,
    });
    this.#discovery = new FileDiscovery({
      ...options.discovery,
      maxIntervalMs: options.maxPollIntervalMs,
      activity,
      onQuiet: quiet,
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
    this.#readTimer.start();
    await this.#discovery.start();
  }

  /**
   * Adds the shutdown sequence to `lifecycle` (DESIGN.md §4); the caller adds closing the rest after it.
   * The drain starts first, so delivery runs while the files are read to their end and no backoff sleep
   * outlives SIGTERM. At `giveUpAt` (the soft deadline, minus the time kept to spill with
   * `--on-deadline stdout`) the sinks stop; what they still owe, held or not yet read, then goes to
   * stdout until the soft deadline, and the report names exactly the byte ranges that did not.
   */
  addShutdownSteps(lifecycle: Pick<Lifecycle, 'addShutdownStep'>): void {
    const delivery = this.#delivery;
    const softDeadline = (context: ShutdownContext) => context.deadline - this.#options.deadlineMarginMs;
    let giveUpAt = 0;
    let drainReport: DrainReport | undefined;
    let spill: SpillOutcome | undefined;
    lifecycle.addShutdownStep('start the drain', (context) => {
      const soft = softDeadline(context);
      giveUpAt = soft - (delivery.spillsAtDeadline ? spillReserveMs(soft - Date.now()) : 0);
      delivery.startDrain();
    });
    lifecycle.addShutdownStep('stop discovery', () => {
      this.#readTimer.stop();
      this.#watch.close();
      return this.#discovery.stop();
    });
    lifecycle.addShutdownStep('read files to their end', (context) => this.#readToEnd(context, giveUpAt));
    lifecycle.addShutdownStep('deliver', async () => {
      drainReport = await delivery.drain(giveUpAt);
    });
    lifecycle.addShutdownStep('write what the sinks still owe to stdout', async (context) => {
      if (drainReport?.complete !== false || !delivery.spillsAtDeadline) return;
      // The delivery now writes every record it accepts to stdout: read what was not read yet.
      await this.#readToEnd(context, softDeadline(context));
      spill = await delivery.finishSpill(softDeadline(context));
    });
    lifecycle.addShutdownStep('write the final checkpoint', () => {
      clearInterval(this.#checkpointTimer);
      // A checkpoint that cannot be saved costs duplicates after a restart, never a line: it does not make
      // the exit code 1, which means "not delivered" (the report step decides that).
      if (!this.#writeCheckpoint()) this.#events.finalCheckpointFailed(this.#options.store.path);
    });
    lifecycle.addShutdownStep('report', () => {
      // The one deadline report: per sink and file, the records read but not settled and the bytes past
      // the settled offset (unread ones included), and with a spill which of those bytes reached stdout.
      const open = this.#server.openFiles();
      const shortfall = this.#checkpointer.shortfall(open, drainReport);
      if (shortfall.length === 0 && drainReport?.complete !== false) return;
      for (const file of shortfall) {
        const size = open.find((extent) => extent.path === file.path)?.size;
        this.#events.notDelivered(file, stdoutCoverage(file, size, spill));
      }
      // Expected and documented: its own line, exit 1, no stack trace.
      throw new StepFailure(deadlineSummary(shortfall));
    });
  }

  /** Reads every file to its end, stopping at `until` (ms since the epoch) or the hard deadline. */
  async #readToEnd(context: ShutdownContext, until: number): Promise<void> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), Math.max(0, until - Date.now()));
    const onHardAbort = () => abort.abort();
    context.signal.addEventListener('abort', onHardAbort, { once: true });
    try {
      await this.#server.readToEnd(abort.signal);
    } finally {
      clearTimeout(timer);
      context.signal.removeEventListener('abort', onHardAbort);
    }
  }

  /** Stops reading for good, closes every file and the sinks. */
  async close(): Promise<void> {
    this.#readTimer.stop();
    this.#watch.close();
    clearInterval(this.#checkpointTimer);
    await this.#server.close();
    await this.#delivery.close();
  }

  #writeCheckpoint(): boolean {
    this.#server.markOpenFiles();
    return this.#checkpointer.write(this.#server.liveKeys());
  }
}

/**
 * Time kept before the soft deadline to write what the sinks still owe to stdout: a fifth of what is
 * left at SIGTERM, at least 250 ms, at most 2 s (at ~300k lines/s to a pipe, 2 s is ~600k lines).
 */
export function spillReserveMs(leftMs: number): number {
  return Math.min(2000, Math.max(250, leftMs / 5));
}

/**
 * What of a file's undelivered bytes the spill wrote to stdout, for the report. The bytes owed are the
 * last `file.bytes` of its `size` (from the sink's settled offset to the end).
 */
export type StdoutCoverage =
  | { readonly onStdout: 'all' }
  | {
      readonly onStdout: 'none' | 'part';
      /** The byte range [from, to) of the file not on stdout; absent for a file no longer open. */
      readonly notOnStdout?: [number, number];
      readonly stdoutReason: string;
    };

function stdoutCoverage(
  file: FileShortfall,
  size: number | undefined,
  spill: SpillOutcome | undefined,
): StdoutCoverage | undefined {
  if (spill === undefined) return undefined;
  if (size === undefined) {
    // A file no longer open: only its held records were owed, and the spill wrote all or not all.
    if (spill.complete) return { onStdout: 'all' };
    return { onStdout: 'part', stdoutReason: spill.reason ?? 'unknown' };
  }
  const from = size - file.bytes;
  const through = Math.max(from, spill.through.get(file.path) ?? 0);
  if (through >= size) return { onStdout: 'all' };
  const reason =
    spill.reason ?? 'the soft deadline came before the file was read to its end (raise --shutdown-timeout)';
  return { onStdout: through > from ? 'part' : 'none', notOnStdout: [through, size], stdoutReason: reason };
}
