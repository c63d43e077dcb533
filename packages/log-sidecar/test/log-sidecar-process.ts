import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessTracker, SidecarProcess } from '@agent-sidecars/shared/testing';

export const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** A record as the stdout sink writes it. */
export interface ShippedRecord {
  time: string;
  path: string;
  id: string;
  labels: Record<string, string>;
  truncated?: boolean;
  message?: string;
  fields?: Record<string, unknown>;
}

const IS_ROOT = process.getuid?.() === 0;
const CAPS = '-dac_override,-dac_read_search';
/** Drops the capabilities from the inheritable and bounding sets: root's exec then never regains them. */
const SETPRIV_NO_READ_OVERRIDE = ['setpriv', `--inh-caps=${CAPS}`, `--bounding-set=${CAPS}`];

/** Whether `withoutReadOverride` can work here: not root, or root with setpriv available. */
export function canDropReadOverride(): boolean {
  if (!IS_ROOT) return true;
  return spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Arguments for a sidecar reading `dir/*.log` as raw lines into the ndjson HTTP sink at `url`, with its
 * checkpoint in `dir/ckpt` and a 100 ms batch timeout unless `extra` gives one.
 */
export function httpArgs(dir: string, url: URL, extra: readonly string[] = []): string[] {
  return [
    '--path',
    join(dir, '*.log'),
    '--format',
    'raw',
    '--checkpoint-dir',
    join(dir, 'ckpt'),
    '--sink',
    'http',
    '--sink-url',
    url.href,
    ...(extra.includes('--batch-timeout') ? [] : ['--batch-timeout', '100ms']),
    ...extra,
  ];
}

export function tempDir(prefix = 'log-sidecar-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface StartOptions {
  readonly env?: Record<string, string>;
  /**
   * Run without the capabilities that let root read any file (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so
   * file permissions apply to it. Unlike running as another user, the process can still read the
   * repository wherever it was cloned (CI clones under a `mktemp -d` directory, mode 0700). Needs
   * util-linux's `setpriv`; a no-op when not root.
   */
  readonly withoutReadOverride?: boolean;
  /** Leave stdout unread (to make the stdout sink block). */
  readonly stdoutUnread?: boolean;
  /** Run under `ulimit -n` of this many file descriptors (util-linux's `prlimit` execs it in place). */
  readonly openFilesLimit?: number;
}

/** The built log-sidecar on a free health port, its stdout records and stderr log lines collected. */
export class LogSidecarProcess extends SidecarProcess<ShippedRecord> {
  constructor(args: readonly string[], options: StartOptions = {}) {
    super({
      name: 'log-sidecar',
      main: MAIN,
      args: ['--listen', '127.0.0.1:0', ...args],
      ...(options.env ? { env: options.env } : {}),
      prefix: [
        ...(options.openFilesLimit === undefined
          ? []
          : ['prlimit', `--nofile=${options.openFilesLimit}:${options.openFilesLimit}`]),
        ...(options.withoutReadOverride && IS_ROOT ? SETPRIV_NO_READ_OVERRIDE : []),
      ],
      ...(options.stdoutUnread ? { stdoutUnread: true } : {}),
    });
  }

  /** Each record's message, or its JSON fields for a parsed JSON line. */
  messages(): string[] {
    return this.records.map((r) => r.message ?? JSON.stringify(r.fields));
  }
}

/** `processes.start(args, options)` in a test, `processes.cleanup()` in its afterEach. */
export function logSidecars(): ProcessTracker<[readonly string[], StartOptions?], LogSidecarProcess> {
  return new ProcessTracker(
    (args: readonly string[], options?: StartOptions) => new LogSidecarProcess(args, options),
  );
}
