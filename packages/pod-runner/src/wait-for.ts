/** Options for {@link waitFor}. */
export interface WaitForOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** Stops waiting at once, e.g. when the process being probed has exited. */
  readonly signal?: AbortSignal;
}

/**
 * Polls `probe` until it returns something other than undefined, and returns that. Throws an error naming
 * `what` (and the last probe error, if any) when the timeout passes or the signal aborts: this is how the
 * runner and the tests wait for a condition instead of sleeping a fixed time.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  options: WaitForOptions = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 25, signal } = options;
  const until = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (signal?.aborted) throw new Error(`gave up waiting for ${what}: ${describe(signal.reason)}`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
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
