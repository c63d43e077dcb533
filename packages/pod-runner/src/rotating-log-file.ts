import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

export interface RotatingLogFileOptions {
  readonly path: string;
  /** Roll over before a write would make the file reach this size; 0 never rolls over. */
  readonly maxBytes: number;
  /** How many rotated files (`.1` ... `.N`) are kept; 0 never rolls over. */
  readonly backupCount: number;
}

/**
 * An append-only log file rotated by size exactly as Python's `logging.handlers.RotatingFileHandler`
 * does it (rename `.N-1` -> `.N` ... base -> `.1`, then a new base file), so the stand-in agent puts the
 * log-sidecar through the same rotation as the real agent. Writes are synchronous, one line at a time,
 * like the handler's.
 */
export class RotatingLogFile {
  readonly #options: RotatingLogFileOptions;
  #fd: number;
  #size: number;

  constructor(options: RotatingLogFileOptions) {
    this.#options = options;
    mkdirSync(dirname(options.path), { recursive: true });
    this.#fd = openSync(options.path, 'a');
    this.#size = fstatSync(this.#fd).size;
  }

  /** Appends `text` (which ends with a newline), rotating first when it would not fit. */
  write(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    const { maxBytes, backupCount } = this.#options;
    if (maxBytes > 0 && backupCount > 0 && this.#size + bytes.length >= maxBytes) this.#rollOver();
    writeSync(this.#fd, bytes);
    this.#size += bytes.length;
  }

  close(): void {
    closeSync(this.#fd);
  }

  #rollOver(): void {
    const { path, backupCount } = this.#options;
    closeSync(this.#fd);
    for (let index = backupCount - 1; index > 0; index -= 1) {
      const source = `${path}.${index}`;
      if (existsSync(source)) renameSync(source, `${path}.${index + 1}`);
    }
    rmSync(`${path}.1`, { force: true });
    renameSync(path, `${path}.1`);
    this.#fd = openSync(path, 'a');
    this.#size = 0;
  }
}
