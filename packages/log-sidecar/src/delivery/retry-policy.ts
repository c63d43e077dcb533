import {
  type BackoffPolicy,
  type Logger,
  type RetryOptions,
  retryUntil,
  sleep,
} from '@agent-sidecars/shared';
import type { SendResult } from '../sink/sink.js';
import type { HeldRecord } from './held-record.js';

/**
 * The one status table of the HTTP sinks (Fluent Bit out_http and Vector's http sink agree): 2xx
 * delivered; 413 too large (the batch is split); 408, 429 and 5xx but 501 retried; any other status
 * rejected for good, counted and logged as lost. Connection errors and timeouts are retried too (the
 * sink reports them as `retryable`).
 */
export function classifyStatus(status: number): 'delivered' | 'too-large' | 'retryable' | 'rejected' {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 413) return 'too-large';
  if (status === 408 || status === 429 || (status >= 500 && status !== 501)) return 'retryable';
  return 'rejected';
}

export interface RetrySettings extends BackoffPolicy {
  /** Backoff while draining: short, so the deadline is used for attempts rather than sleeps. */
  readonly drain: BackoffPolicy;
  /** Attempts before a batch is rejected as lost; unlimited when undefined (at-least-once). */
  readonly maxAttempts: number | undefined;
  /** The longest Retry-After honoured, so a server cannot park delivery for hours. */
  readonly maxRetryAfterMs: number;
}

/** What the policy retries: one attempt to send, and the two ways records end up settled. */
export interface BatchAttempts {
  /** Sends the items once; never rejects. */
  send(items: readonly HeldRecord[]): Promise<SendResult>;
  delivered(items: readonly HeldRecord[], bytes: number | undefined): void;
  /** Refused for good: logged and counted as lost, then settled. */
  rejected(items: readonly HeldRecord[], status: number | undefined, reason: string): void;
}

export interface RetryPolicyOptions {
  readonly sinkName: string;
  readonly settings: RetrySettings;
  readonly logger: Logger;
  readonly retries: { inc(value?: number): void };
  /** Aborted when delivery gives up (deadline or close): no further attempt, no further wait. */
  readonly stop: AbortSignal;
  readonly random?: () => number;
}

const NO_STATUS = 'error';

/**
 * One sink's retry policy (Vector's `src/sinks/util/retries.rs`): what each SendResult means, full-jitter
 * backoff or the server's Retry-After between attempts (shared's `retryUntil`), splitting a batch that
 * is too large, retrying only the failed items of a partial result, and the one "failing" / "recovered"
 * log pair. It knows nothing of batching or acks.
 */
export class RetryPolicy {
  readonly #options: RetryPolicyOptions;
  /** Ends backoff sleeps when draining starts. */
  readonly #wake = new AbortController();
  /**
   * Ends the backoff sleeps in progress when another batch of this sink got through: the sink is back,
   * and a batch left sleeping (up to maxMs) would hold every later acknowledgement, and the checkpoint,
   * behind it. Replaced after each recovery.
   */
  #recovery = new AbortController();
  #draining = false;
  #failing = false;
  /** What `retryUntil` reads at every wait: the drain backoff once draining has started. */
  readonly #retry: RetryOptions;

  constructor(options: RetryPolicyOptions) {
    this.#options = options;
    const { settings, stop, logger, sinkName } = options;
    // Giving up ends a backoff sleep too, draining or not.
    stop.addEventListener('abort', () => this.#wake.abort(), { once: true });
    const policy = this;
    this.#retry = {
      get baseMs() {
        return policy.#draining ? settings.drain.baseMs : settings.baseMs;
      },
      get maxMs() {
        return policy.#draining ? settings.drain.maxMs : settings.maxMs;
      },
      get maxRetryAfterMs() {
        return policy.#draining ? settings.drain.maxMs : settings.maxRetryAfterMs;
      },
      signal: stop,
      maxAttempts: settings.maxAttempts,
      random: options.random,
      onRetry: ({ attempt, waitMs, reason }) => {
        if (stop.aborted) return;
        options.retries.inc();
        logger.debug({ sink: sinkName, attempt, waitMs, reason }, 'Retrying batch.');
      },
      // A recovery of the sink ends a wait; so does giving up, and before draining, the start of draining.
      sleep: (ms) => sleepUntilEither(ms, this.#draining ? stop : this.#wake.signal, this.#recovery.signal),
    };
  }

  /** Draining: backoff becomes short and a sleep in progress ends now. */
  startDrain(): void {
    this.#draining = true;
    this.#wake.abort();
  }

  /** Sends until every item is settled (delivered or rejected) or delivery gives up. */
  async deliver(items: HeldRecord[], attempts: BatchAttempts): Promise<void> {
    const stop = this.#options.stop;
    let remaining = items;
    const outcome = await retryUntil<void>(async () => {
      const result = await attempts.send(remaining);
      switch (result.outcome) {
        case 'delivered':
          this.#recovered();
          attempts.delivered(remaining, result.bytes);
          return { done: true, value: undefined };
        case 'rejected':
          this.#recovered();
          attempts.rejected(remaining, result.status, result.reason);
          return { done: true, value: undefined };
        case 'too-large':
          this.#recovered();
          if (remaining.length === 1) {
            const reason = `record alone is too large: ${result.reason}`;
            attempts.rejected(remaining, result.status ?? 413, reason);
          } else {
            const half = Math.ceil(remaining.length / 2);
            await this.deliver(remaining.slice(0, half), attempts);
            await this.deliver(remaining.slice(half), attempts);
          }
          return { done: true, value: undefined };
        case 'partial':
          remaining = this.#applyPartial(attempts, remaining, result);
          if (remaining.length === 0) return { done: true, value: undefined };
          return {
            done: false,
            reason: `${remaining.length} bulk items to retry`,
            retryAfterMs: result.retryAfterMs,
          };
        case 'retryable':
          this.#failed(result, remaining.length);
          return { done: false, reason: result.reason, retryAfterMs: result.retryAfterMs };
      }
    }, this.#retry);
    if (!outcome.ok && outcome.stoppedBy === 'attempts' && !stop.aborted) {
      const reason = `gave up after ${outcome.attempts} attempts: ${outcome.lastReason}`;
      attempts.rejected(remaining, undefined, reason);
    }
  }

  #applyPartial(
    attempts: BatchAttempts,
    items: HeldRecord[],
    result: Extract<SendResult, { outcome: 'partial' }>,
  ): HeldRecord[] {
    const state = new Uint8Array(items.length); // 0 delivered, 1 retry, 2 rejected
    for (const index of result.retry) if (index >= 0 && index < items.length) state[index] = 1;
    const rejectedByStatus = new Map<string, { items: HeldRecord[]; reason: string; status?: number }>();
    for (const item of result.rejected) {
      if (item.index < 0 || item.index >= items.length || state[item.index] === 2) continue;
      state[item.index] = 2;
      const key = String(item.status ?? NO_STATUS);
      let group = rejectedByStatus.get(key);
      if (!group) {
        group = { items: [], reason: item.reason, status: item.status };
        rejectedByStatus.set(key, group);
      }
      group.items.push(items[item.index]!);
    }
    const delivered: HeldRecord[] = [];
    const retry: HeldRecord[] = [];
    for (let i = 0; i < items.length; i++) {
      if (state[i] === 0) delivered.push(items[i]!);
      else if (state[i] === 1) retry.push(items[i]!);
    }
    attempts.delivered(delivered, result.bytes);
    for (const group of rejectedByStatus.values()) {
      attempts.rejected(group.items, group.status, group.reason);
    }
    return retry;
  }

  #failed(result: Extract<SendResult, { outcome: 'retryable' }>, records: number): void {
    if (this.#failing || this.#options.stop.aborted) return;
    this.#failing = true;
    this.#options.logger.warn(
      { sink: this.#options.sinkName, status: result.status, reason: result.reason, records },
      'Sink is failing; retrying with backoff until it answers.',
    );
  }

  #recovered(): void {
    if (!this.#failing) return;
    this.#failing = false;
    this.#recovery.abort();
    this.#recovery = new AbortController();
    this.#options.logger.info({ sink: this.#options.sinkName }, 'Sink recovered.');
  }
}

/**
 * `sleep` that ends when either signal aborts. Listeners are removed when it ends (AbortSignal.any would
 * tie a new signal to the long-lived ones at every wait).
 */
function sleepUntilEither(ms: number, a: AbortSignal, b: AbortSignal): Promise<void> {
  if (a.aborted || b.aborted) return Promise.resolve();
  const either = new AbortController();
  const onAbort = () => either.abort();
  a.addEventListener('abort', onAbort, { once: true });
  b.addEventListener('abort', onAbort, { once: true });
  return sleep(ms, either.signal).finally(() => {
    a.removeEventListener('abort', onAbort);
    b.removeEventListener('abort', onAbort);
  });
}
