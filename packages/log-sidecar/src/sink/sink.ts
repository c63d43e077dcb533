import type { LogRecord } from '../record.js';

/**
 * What one `send` achieved. A sink classifies its protocol's answer into one of these and never sleeps,
 * loops or retries: the delivery driver does that once for every sink.
 */
export type SendResult =
  /** `status` and `bytes` (request body on the wire) are optional extras for the driver's metrics. */
  | { readonly outcome: 'delivered'; readonly status?: number; readonly bytes?: number }
  /** Nothing was accepted; send the same records again later (408, 429, 5xx but 501, connection errors). */
  | {
      readonly outcome: 'retryable';
      readonly reason: string;
      readonly status?: number;
      readonly retryAfterMs?: number;
    }
  /** The backend refused the records for good (4xx); they are counted and logged as lost. */
  | { readonly outcome: 'rejected'; readonly reason: string; readonly status?: number }
  /** The request was too large (413): the driver splits the batch; a single record is rejected. */
  | { readonly outcome: 'too-large'; readonly reason: string; readonly status?: number }
  /**
   * Some records were accepted, some not (Elasticsearch bulk items). Indices are into the batch sent;
   * any index in neither list was delivered.
   */
  | {
      readonly outcome: 'partial';
      readonly retry: readonly number[];
      readonly rejected: readonly {
        readonly index: number;
        readonly reason: string;
        readonly status?: number;
      }[];
      readonly retryAfterMs?: number;
      readonly status?: number;
      readonly bytes?: number;
    };

export interface Sink {
  /** Unique, human-readable name used in logs, metrics labels and checkpoints (e.g. `stdout`, `loki`). */
  readonly name: string;
  /** Sends one batch. Must resolve (never reject) with a classification; `signal` aborts an in-flight send. */
  send(records: readonly LogRecord[], signal: AbortSignal): Promise<SendResult>;
  /** Releases connections and handles. */
  close(): Promise<void>;
}
