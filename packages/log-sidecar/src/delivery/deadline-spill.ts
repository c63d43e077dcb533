import type { Writable } from 'node:stream';
import type { LogRecord } from '../record.js';
import { RecordLineEncoder } from '../sink/record-line-encoder.js';

/** Records gathered before one write to stdout: large writes, few callbacks. */
const CHUNK_RECORDS = 2000;

/** What the spill wrote by the time it was asked to finish. */
export interface SpillOutcome {
  /** Every record given to the spill was written (its write callback fired without error). */
  readonly complete: boolean;
  /** Records written. */
  readonly records: number;
  /** Per file path, the end offset of the last record written: the file's bytes up to it are on stdout. */
  readonly through: ReadonlyMap<string, number>;
  /** Why records are missing when not complete. */
  readonly reason?: string;
}

/**
 * `--on-deadline stdout`: at the deadline, every record a sink still owes goes to stdout, where the node's
 * log collector reads it, so the lines still leave the Pod. Records held in memory come first, then those
 * read from the files' unread rest after the deadline, in file order. Writes in chunks and knows, per
 * file, how far stdout has confirmed: what the deadline report names as not written is exact.
 */
export class DeadlineSpill {
  readonly #stdout: Writable;
  readonly #encoder = new RecordLineEncoder();
  #pending: LogRecord[] = [];
  #flushScheduled = false;
  /** Writes whose callback has not fired yet. */
  #writing = 0;
  #failed: string | undefined;
  #records = 0;
  readonly #through = new Map<string, number>();
  #settledWaiters: (() => void)[] = [];

  constructor(stdout: Writable) {
    this.#stdout = stdout;
  }

  /** True while stdout takes more without buffering past its high-water mark. */
  get writable(): boolean {
    return !this.#stdout.writableNeedDrain;
  }

  /** Resolves once stdout has room again. */
  whenWritable(): Promise<void> {
    if (this.writable || this.#failed !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.#stdout.once('drain', resolve));
  }

  add(record: LogRecord): void {
    this.#pending.push(record);
    if (this.#pending.length >= CHUNK_RECORDS) this.#flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => {
        this.#flushScheduled = false;
        this.#flush();
      });
    }
  }

  /** Writes what is pending and waits for every write, but not past `deadline` (ms since the epoch). */
  async finish(deadline: number): Promise<SpillOutcome> {
    this.#flush();
    if (this.#writing > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#settledWaiters.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        }),
      ]);
      clearTimeout(timer);
    }
    const complete = this.#writing === 0 && this.#failed === undefined;
    const reason = complete
      ? undefined
      : (this.#failed ?? 'stdout did not take them before the deadline (is anything reading it?)');
    return { complete, records: this.#records, through: new Map(this.#through), reason };
  }

  #flush(): void {
    if (this.#pending.length === 0 || this.#failed !== undefined) return;
    const records = this.#pending;
    this.#pending = [];
    this.#writing++;
    const done = (error?: Error | null) => {
      this.#writing--;
      if (error) this.#failed ??= `stdout failed: ${error.message}`;
      else {
        this.#records += records.length;
        for (const record of records) {
          const seen = this.#through.get(record.path) ?? 0;
          if (record.endOffset > seen) this.#through.set(record.path, record.endOffset);
        }
      }
      if (this.#writing === 0) for (const resolve of this.#settledWaiters.splice(0)) resolve();
    };
    try {
      this.#stdout.write(this.#encoder.bytes(records), done);
    } catch (error) {
      done(error as Error);
    }
  }
}
