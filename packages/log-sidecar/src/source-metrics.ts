import { Counter, Gauge, type Registry } from 'prom-client';

/** What the lag gauge needs to know of each open file, read at scrape time. */
export interface FileLag {
  readonly path: string;
  readonly lagBytes: number;
}

export type ErrorKind =
  | 'permission'
  | 'not_a_file'
  | 'open'
  | 'read'
  | 'stat'
  | 'directory_missing'
  | 'checkpoint';

/**
 * The source side's own series (prefix `log_sidecar_`), on the component's registry. Counters are bumped
 * once per read chunk, not per line, to keep the hot path free of metric calls.
 */
export class SourceMetrics {
  readonly recordsRead: Counter;
  readonly bytesRead: Counter;
  readonly recordsTruncated: Counter;
  readonly recordsDelivered: Counter<'sink'>;
  readonly checkpointWrites: Counter;
  readonly checkpointWriteFailures: Counter;
  readonly errors: Counter<'kind'>;
  readonly fileTruncations: Counter;
  readonly rotations: Counter;
  readonly scans: Counter;
  readonly bytesLostUnread: Counter;
  readonly watchWakeups: Counter;

  constructor(
    registry: Registry,
    files: () => Iterable<FileLag>,
    unreadFiles: () => number = () => 0,
    readPollWaitMs: () => number = () => 0,
  ) {
    const registers = [registry];
    this.recordsRead = new Counter({
      name: 'log_sidecar_records_read_total',
      help: 'Records (lines or multiline groups) read from files.',
      registers,
    });
    this.bytesRead = new Counter({
      name: 'log_sidecar_bytes_read_total',
      help: 'Bytes read from files.',
      registers,
    });
    this.recordsTruncated = new Counter({
      name: 'log_sidecar_records_truncated_total',
      help: 'Records cut at --max-line-bytes.',
      registers,
    });
    this.recordsDelivered = new Counter({
      name: 'log_sidecar_records_delivered_total',
      help: 'Records settled (acknowledged) by a sink.',
      labelNames: ['sink'],
      registers,
    });
    this.checkpointWrites = new Counter({
      name: 'log_sidecar_checkpoint_writes_total',
      help: 'Checkpoint files written.',
      registers,
    });
    this.checkpointWriteFailures = new Counter({
      name: 'log_sidecar_checkpoint_write_failures_total',
      help: 'Checkpoint writes that failed (retried on the next tick).',
      registers,
    });
    this.errors = new Counter({
      name: 'log_sidecar_errors_total',
      help: 'Problems met while finding, opening or reading files, by kind.',
      labelNames: ['kind'],
      registers,
    });
    this.fileTruncations = new Counter({
      name: 'log_sidecar_file_truncations_total',
      help: 'Files found truncated or rewritten (copytruncate) and read again from the start.',
      registers,
    });
    this.rotations = new Counter({
      name: 'log_sidecar_file_rotations_total',
      help: 'Files renamed away or deleted while being read.',
      registers,
    });
    this.scans = new Counter({
      name: 'log_sidecar_discovery_scans_total',
      help: 'Scans of the --path globs.',
      registers,
    });
    this.bytesLostUnread = new Counter({
      name: 'log_sidecar_bytes_lost_unread_total',
      help: 'Bytes of matching files that disappeared before they were read to their end (each one logged).',
      registers,
    });
    this.watchWakeups = new Counter({
      name: 'log_sidecar_watch_wakeups_total',
      help: 'File-system events that woke the backed-off reads and scans (--max-poll-interval).',
      registers,
    });
    new Gauge({
      name: 'log_sidecar_read_poll_interval_seconds',
      help: 'The wait between reads of the open files now: --read-interval, or up to --max-poll-interval while nothing changes.',
      registers,
      collect() {
        this.set(readPollWaitMs() / 1000);
      },
    });
    new Gauge({
      name: 'log_sidecar_files_unread',
      help: 'Matching files with bytes not read yet that are not open: waiting for a slot (--max-open-files) or unopenable.',
      registers,
      collect() {
        this.set(unreadFiles());
      },
    });
    new Gauge({
      name: 'log_sidecar_files_watched',
      help: 'Files open for reading.',
      registers,
      collect() {
        let count = 0;
        for (const _ of files()) count++;
        this.set(count);
      },
    });
    new Gauge({
      name: 'log_sidecar_file_lag_bytes',
      help: 'Per file: its size minus the offset every sink has settled.',
      labelNames: ['path'],
      registers,
      collect() {
        this.reset();
        for (const file of files()) this.set({ path: file.path }, file.lagBytes);
      },
    });
  }
}
