import { type BackoffPolicy, fullJitterBackoff } from './backoff.js';
import { sleep as defaultSleep } from './sleep.js';

/** What one attempt achieved: done with a value, or worth another try (optionally not before `retryAfterMs`). */
export type AttemptResult<T> =
  | { readonly done: true; readonly value: T }
  | { readonly done: false; readonly reason: string; readonly retryAfterMs?: number };

export type RetryOutcome<T> =
  | { readonly ok: true; readonly value: T; readonly attempts: number }
  | {
      readonly ok: false;
      /** Why the loop gave up: the deadline came, the signal aborted, or maxAttempts were used. */
      readonly stoppedBy: 'deadline' | 'aborted' | 'attempts';
      readonly lastReason: string;
      readonly attempts: number;
    };

export interface RetryOptions extends BackoffPolicy {
  /** Absolute time (ms since the epoch) after which no attempt starts and no wait extends. */
  readonly deadline?: number;
  readonly signal?: AbortSignal;
  /** Unlimited when absent: at-least-once delivery retries until the deadline or the signal. */
  readonly maxAttempts?: number;
  /** The longest Retry-After honoured, so a server cannot park the caller for hours. Unlimited when absent. */
  readonly maxRetryAfterMs?: number;
  /** Called before each wait, for logs and metrics. */
  readonly onRetry?: (info: { attempt: number; waitMs: number; reason: string }) => void;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Runs `attempt` until it is done, waiting full-jitter backoff (or the server's Retry-After, whichever is
 * longer) between tries, never past the deadline and never after the signal aborts. The backoff fields of
 * `options` are read at every wait, so a policy that changes (a shorter one while draining) applies from
 * the next wait on.
 */
export async function retryUntil<T>(
  attempt: (attemptNumber: number, signal: AbortSignal | undefined) => Promise<AttemptResult<T>>,
  options: RetryOptions,
): Promise<RetryOutcome<T>> {
  const now = options.now ?? Date.now;
  const wait = options.sleep ?? defaultSleep;
  let attempts = 0;
  let lastReason = 'not attempted';
  for (;;) {
    if (options.signal?.aborted) return { ok: false, stoppedBy: 'aborted', lastReason, attempts };
    if (options.deadline !== undefined && now() >= options.deadline) {
      return { ok: false, stoppedBy: 'deadline', lastReason, attempts };
    }
    const result = await attempt(attempts, options.signal);
    attempts++;
    if (result.done) return { ok: true, value: result.value, attempts };
    lastReason = result.reason;
    if (options.maxAttempts !== undefined && attempts >= options.maxAttempts) {
      return { ok: false, stoppedBy: 'attempts', lastReason, attempts };
    }
    const asked = Math.min(result.retryAfterMs ?? 0, options.maxRetryAfterMs ?? Number.POSITIVE_INFINITY);
    let waitMs = Math.max(fullJitterBackoff(attempts - 1, options, options.random), asked);
    if (options.deadline !== undefined) {
      const left = options.deadline - now();
      if (left <= 0) return { ok: false, stoppedBy: 'deadline', lastReason, attempts };
      waitMs = Math.min(waitMs, left);
    }
    options.onRetry?.({ attempt: attempts, waitMs, reason: result.reason });
    await wait(waitMs, options.signal);
  }
}
