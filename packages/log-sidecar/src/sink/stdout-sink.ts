import type { Writable } from 'node:stream';
import type { LogRecord } from '../record.js';
import { BufferPool } from './buffer-pool.js';
import { RecordLineEncoder } from './record-line-encoder.js';
import type { SendResult, Sink } from './sink.js';

export interface StdoutSinkOptions {
  /** process.stdout in the binary; any Writable in tests. */
  readonly stream: Writable;
  readonly name?: string;
  /**
   * True when the stream keeps no reference to a chunk once its write callback ran without error (the
   * process's own stdout: the bytes are with the OS by then): batch buffers are then used again. A
   * generic Writable may keep the chunk it was given, so the default is false.
   */
  readonly reuseBuffers?: boolean;
}

/** Two batch buffers: one being written, one being encoded; none larger than this is kept. */
const POOLED_BUFFERS = 2;
const POOLED_BUFFER_MAX_BYTES = 64 * 1024 * 1024;

/**
 * One JSON object a line on stdout, where `kubectl logs` and the node's collector read it. A batch is
 * encoded into one UTF-8 buffer (one encoding pass; its length is the byte count) and written once; it counts as delivered only when the write callback fires
 * (the bytes left the process), and, when the stream's buffer is over its high-water mark, once it has
 * drained, so a slow reader slows delivery down instead of growing memory.
 */
export class StdoutSink implements Sink {
  readonly name: string;
  private readonly stream: Writable;
  private readonly encoder = new RecordLineEncoder();
  private readonly pool: BufferPool | undefined;

  constructor(options: StdoutSinkOptions) {
    this.name = options.name ?? 'stdout';
    this.stream = options.stream;
    if (options.reuseBuffers === true) this.pool = new BufferPool(POOLED_BUFFERS, POOLED_BUFFER_MAX_BYTES);
  }

  send(records: readonly LogRecord[], signal: AbortSignal): Promise<SendResult> {
    if (records.length === 0) return Promise.resolve({ outcome: 'delivered', bytes: 0 });
    const stream = this.stream;
    if (stream.destroyed || stream.writableEnded) {
      return Promise.resolve({ outcome: 'retryable', reason: 'stdout is closed' });
    }
    const bytes = this.encoder.bytes(records, undefined, this.pool);
    return new Promise<SendResult>((resolve) => {
      let written = false;
      let drained = true;
      let settled = false;
      const finish = (result: SendResult) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        stream.off('drain', onDrain);
        stream.off('error', onError);
        resolve(result);
      };
      const maybeDone = () => {
        if (written && drained) finish({ outcome: 'delivered', bytes: bytes.length });
      };
      const onDrain = () => {
        drained = true;
        maybeDone();
      };
      const onError = (error: Error) => finish({ outcome: 'retryable', reason: `stdout: ${error.message}` });
      // The bytes may already sit in the stream's buffer; reporting them undelivered only risks a duplicate.
      const onAbort = () => finish({ outcome: 'retryable', reason: 'aborted while writing to stdout' });
      signal.addEventListener('abort', onAbort, { once: true });
      stream.on('error', onError);
      const ok = stream.write(bytes, (error) => {
        // A failed write may leave the chunk queued somewhere: it is left to the garbage collector.
        if (error) return onError(error);
        this.pool?.give(bytes);
        written = true;
        maybeDone();
      });
      if (!ok) {
        drained = false;
        stream.once('drain', onDrain);
      }
    });
  }

  async close(): Promise<void> {
    // stdout belongs to the process: main.ts ends it, a sink never does.
    this.pool?.clear();
  }
}
