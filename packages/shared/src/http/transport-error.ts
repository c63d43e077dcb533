/**
 * One line for a failed HTTP exchange below the status (refused, reset, DNS, TLS, aborted): the error's
 * code and message and those of its cause (undici and node:http nest the system error differently),
 * each said once, e.g. `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9`.
 */
export function describeTransportError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const parts = [code, error.message, cause?.code, cause?.message].filter(
    (part): part is string => typeof part === 'string' && part !== '',
  );
  return [...new Set(parts)].join(': ');
}
