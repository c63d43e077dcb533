import type { Logger } from '@agent-sidecars/shared';
import type { FileShortfall } from './checkpoint/checkpointer.js';
import type { SourceMetrics } from './source-metrics.js';

/** At most one warning per this long about checkpoint writes that keep failing. */
const CHECKPOINT_WARN_INTERVAL_MS = 60_000;

/**
 * Every observable event of the source side (discovery, file server, rotation, checkpoints), one function
 * each: the log line and the counter are written together, so neither can be forgotten (Vector's
 * `src/internal_events/`). Problems that would repeat at every scan are reported once per path and
 * problem until they go away; that memory is kept here, and only here.
 */
export class SourceEvents {
  readonly #log: Logger;
  readonly #metrics: SourceMetrics;
  /** Problems already reported, by `kind:path`, with the problem (an errno code or a kind of file). */
  readonly #reported = new Map<string, string>();
  readonly #now: () => number;
  /** When the last checkpoint failure was logged, and the failures since (undefined: none pending). */
  #checkpointWarnedAt: number | undefined;
  #checkpointFailures = 0;

  constructor(logger: Logger, metrics: SourceMetrics, now: () => number = Date.now) {
    this.#log = logger;
    this.#metrics = metrics;
    this.#now = now;
  }

  // --- discovery ------------------------------------------------------------------------------------

  scanned(): void {
    this.#metrics.scans.inc();
  }

  directoryUnlistable(directory: string, code: string): void {
    this.#once(`dir:${directory}`, code, () => {
      this.#metrics.errors.inc({
        kind: code === 'ENOENT' ? 'directory_missing' : code === 'EACCES' ? 'permission' : 'stat',
      });
      if (code === 'ENOENT') this.#log.warn({ directory }, 'Directory does not exist yet; waiting for it.');
      else this.#log.warn({ directory, code }, 'Cannot list directory; retrying.');
    });
  }

  directoryListed(directory: string): void {
    if (this.#reported.delete(`dir:${directory}`)) {
      this.#log.info({ directory }, 'Directory appeared; reading its files.');
    }
  }

  pathUnstatable(path: string, code: string): void {
    this.#once(`path:${path}`, code, () => {
      this.#metrics.errors.inc({ kind: code === 'ELOOP' ? 'not_a_file' : 'stat' });
      this.#log.warn(
        { path, code },
        code === 'ELOOP' ? 'Path is a symlink loop; skipping it.' : 'Cannot stat a matching path; retrying.',
      );
    });
  }

  pathNotAFile(path: string, kind: string): void {
    this.#once(`path:${path}`, kind, () => {
      this.#metrics.errors.inc({ kind: 'not_a_file' });
      this.#log.warn({ path, kind }, 'Path matches --path but is not a regular file; skipping it.');
    });
  }

  /** A directory cannot be watched: its files are still polled, only later while the polls back off. */
  cannotWatch(directory: string, code: string): void {
    this.#once(`watch:${directory}`, code, () => {
      this.#log.info(
        { directory, code },
        'Cannot watch directory; its files are polled only (new lines found up to --max-poll-interval later).',
      );
    });
  }

  /** A file-system event woke the backed-off polls. */
  watchWoke(): void {
    this.#metrics.watchWakeups.inc();
  }

  pathIsFile(path: string): void {
    this.#reported.delete(`path:${path}`);
  }

  // --- file server ----------------------------------------------------------------------------------

  cannotOpen(path: string, code: string): void {
    this.#once(`open:${path}`, code, () => {
      this.#metrics.errors.inc({ kind: code === 'EACCES' || code === 'EPERM' ? 'permission' : 'open' });
      this.#log.warn({ path, code }, 'Cannot open file; retrying at every scan and shipping the others.');
    });
  }

  opened(path: string): void {
    if (this.#reported.delete(`open:${path}`)) this.#log.info({ path }, 'File can be read now.');
  }

  /** Forgets open problems of paths discovery no longer finds: they are reported again if they return. */
  openProblemsGone(found: ReadonlyMap<string, unknown>): void {
    for (const key of this.#reported.keys()) {
      if (key.startsWith('open:') && !found.has(key.slice(5))) this.#reported.delete(key);
    }
  }

  /** Out of descriptors before --max-open-files: fewer files are held open from now on. */
  outOfDescriptors(code: string, open: number, limit: number): void {
    this.#metrics.errors.inc({ kind: 'open' });
    this.#once('descriptors', String(limit), () => {
      this.#log.warn(
        { code, open, limit },
        'Out of file descriptors; holding fewer files open, the others wait their turn. Raise ulimit -n or lower --max-open-files.',
      );
    });
  }

  /** A matching file disappeared before it was read to its end: its unread bytes are lost. */
  goneUnread(path: string, bytes: number): void {
    this.#metrics.bytesLostUnread.inc(bytes);
    this.#log.warn({ path, bytes }, 'File gone before it was read to its end; its unread bytes are lost.');
  }

  /**
   * A checkpointed file was found nowhere after a restart: the bytes it held past its checkpoint when last
   * seen are lost (and whatever was written to it after that, which nobody can count).
   */
  goneWhileStopped(path: string, bytes: number): void {
    this.#metrics.bytesLostUnread.inc(bytes);
    this.#log.warn(
      { path, bytes },
      'File gone while the sidecar was stopped, before it was read to its end; its unread bytes are lost.',
    );
  }

  reading(path: string, size: number): void {
    this.#log.info({ path, size }, 'Reading file.');
  }

  cannotStatOpenFile(path: string, err: unknown): void {
    this.#metrics.errors.inc({ kind: 'stat' });
    this.#log.warn({ path, err }, 'Cannot stat an open file; retrying.');
  }

  cannotRead(path: string, err: unknown): void {
    this.#metrics.errors.inc({ kind: 'read' });
    this.#log.warn({ path, err }, 'Cannot read file; retrying at the next scan.');
  }

  /** A checkpoint of this file's identity base cannot be resumed: the file is read from its start. */
  notResumable(path: string, offset: number, reason: 'changed' | 'unverifiable'): void {
    if (reason === 'changed') {
      this.#metrics.fileTruncations.inc();
      this.#log.warn(
        { path, offset },
        'File no longer holds what was checkpointed (rewritten, truncated or its inode reused); reading it again from the start.',
      );
    } else {
      this.#log.info(
        { path, offset },
        'Checkpoint of this file has no content marker (written by an older version); reading it again from the start.',
      );
    }
  }

  truncated(path: string): void {
    this.#metrics.fileTruncations.inc();
    this.#log.warn({ path }, 'File truncated or rewritten; reading it again from the start.');
  }

  /** Per read chunk, not per line: the hot path stays free of metric calls. */
  chunkRead(bytes: number, records: number, truncated: number): void {
    if (bytes > 0) this.#metrics.bytesRead.inc(bytes);
    if (records > 0) this.#metrics.recordsRead.inc(records);
    if (truncated > 0) this.#metrics.recordsTruncated.inc(truncated);
  }

  // --- rotation -------------------------------------------------------------------------------------

  renamed(from: string, to: string): void {
    this.#log.info({ from, to }, 'File renamed; still reading it under its new name.');
  }

  rotatedAway(path: string): void {
    this.#metrics.rotations.inc();
    this.#log.info({ path }, 'File renamed away or deleted; reading it to its end.');
  }

  rotatedFileFound(path: string, was: string, offset: number): void {
    this.#log.info({ path, was, offset }, 'Found a rotated file left unfinished; reading it to its end.');
  }

  rotatedFileClosed(path: string): void {
    this.#log.info({ path }, 'Rotated file read to its end; closed it.');
  }

  // --- checkpoints ----------------------------------------------------------------------------------

  resuming(path: string, offset: number): void {
    this.#log.info({ path, offset }, 'Resuming file from its checkpoint.');
  }

  delivered(sink: string, records: number): void {
    this.#metrics.recordsDelivered.inc({ sink }, records);
  }

  checkpointWritten(): void {
    this.#metrics.checkpointWrites.inc();
    if (this.#checkpointWarnedAt !== undefined) {
      this.#log.info({ failures: this.#checkpointFailures }, 'Checkpoint written again.');
      this.#checkpointWarnedAt = undefined;
      this.#checkpointFailures = 0;
    }
  }

  /**
   * A checkpoint write is tried every second; a directory that stays unwritable would otherwise log a
   * line a second. Warned at the first failure, then at most once per CHECKPOINT_WARN_INTERVAL_MS with the
   * failures since; the counter counts every one.
   */
  checkpointWriteFailed(path: string, err: unknown): void {
    this.#metrics.checkpointWriteFailures.inc();
    this.#metrics.errors.inc({ kind: 'checkpoint' });
    this.#checkpointFailures++;
    const now = this.#now();
    if (
      this.#checkpointWarnedAt !== undefined &&
      now - this.#checkpointWarnedAt < CHECKPOINT_WARN_INTERVAL_MS
    )
      return;
    this.#checkpointWarnedAt = now;
    this.#log.warn(
      { path, err, failures: this.#checkpointFailures },
      'Cannot write the checkpoint; retrying.',
    );
  }

  /** The last checkpoint write at shutdown failed: nothing is lost, a restart sends some records again. */
  finalCheckpointFailed(path: string): void {
    this.#log.error(
      { path },
      'Cannot write the final checkpoint: every record was delivered, but a restart would send again what was delivered since the last checkpoint written.',
    );
  }

  checkpointsForgotten(paths: readonly string[]): void {
    this.#log.info({ paths }, 'Forgot checkpoints of files gone for good.');
  }

  // --- shutdown -------------------------------------------------------------------------------------

  /** One line of the deadline report; with `--on-deadline stdout`, which of the bytes reached stdout. */
  notDelivered(file: FileShortfall, stdout?: object): void {
    this.#log.error(
      {
        sink: file.sink,
        path: file.path,
        records: file.records,
        bytes: file.bytes,
        reason: file.reason,
        ...stdout,
      },
      'Not delivered before the shutdown deadline.',
    );
  }

  #once(key: string, problem: string, report: () => void): void {
    if (this.#reported.get(key) === problem) return;
    this.#reported.set(key, problem);
    report();
  }
}
