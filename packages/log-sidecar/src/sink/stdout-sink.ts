import type { Writable } from 'node:stream';
import type { LogRecord } from '../record.js';
import { RecordLineEncoder } from './record-line-encoder.js';
import type { SendResult, Sink } from './sink.js';

export interface StdoutSinkOptions {
  /** process.stdout in the binary; any Writable in tests. */
  readonly stream: Writable;
  readonly name?: string;
}

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

  constructor(options: StdoutSinkOptions) {
    this.name = options.name ?? 'stdout';
    this.stream = options.stream;
  }

  send(records: readonly LogRecord[], signal: AbortSignal): Promise<SendResult> {
    if (records.length === 0) return Promise.resolve({ outcome: 'delivered', bytes: 0 });
    const bytes = this.encoder.bytes(records);
    const stream = this.stream;
    if (stream.destroyed || stream.writableEnded) {
      return Promise.resolve({ outcome: 'retryable', reason: 'stdout is closed' });
    }
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
        if (error) return onError(error);
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
  }
}
