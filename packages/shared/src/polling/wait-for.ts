/** Options for {@link waitFor}. */
export interface WaitForOptions {
  /** How long to keep probing; 20 s by default, generous because the tests share a busy machine. */
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** Stops waiting at once, e.g. when the process being probed has exited; the reason is in the error. */
  readonly signal?: AbortSignal;
}

/** What a probe returns while the condition does not hold yet. */
export type NotYet = undefined | null | false | 0 | '';

/**
 * Polls `probe` until it returns a truthy value, and returns that value. A probe that throws counts as
 * "not yet" (a server that is not listening yet refuses the connection); the last error is named when
 * the wait fails. Throws an error naming `what` when the timeout passes or the signal aborts: this is how
 * the runner and the tests wait for a condition instead of sleeping a fixed time.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | NotYet | Promise<T | NotYet>,
  options: WaitForOptions = {},
): Promise<T> {
  const { timeoutMs = 20_000, intervalMs = 25, signal } = options;
  const until = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (signal?.aborted) throw new Error(`gave up waiting for ${what}: ${describe(signal.reason)}`);
    try {
      const value = await probe();
      if (value) return value as T;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= until) {
      const cause = lastError === undefined ? '' : ` (last error: ${describe(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function describe(value: unknown): string {
  return value instanceof Error ? value.message : String(value);
}
