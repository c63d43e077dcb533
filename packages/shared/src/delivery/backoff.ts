export interface BackoffPolicy {
  /** The first attempt's ceiling. */
  readonly baseMs: number;
  /** No wait is ever longer than this. */
  readonly maxMs: number;
}

/**
 * "Full jitter" exponential backoff: a uniformly random wait in [0, min(max, base * 2^attempt)).
 * Randomising the whole interval spreads the retries of many clients after a shared outage, which the
 * equal-jitter and no-jitter variants do not (AWS Architecture Blog, "Exponential Backoff And Jitter").
 * `attempt` counts from 0 for the first retry.
 */
export function fullJitterBackoff(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt, 0), 52);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}
