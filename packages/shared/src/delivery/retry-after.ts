/**
 * Parses an HTTP `Retry-After` header (RFC 9110 section 10.2.3): either delay-seconds or an HTTP-date.
 * Returns the wait in milliseconds (0 for a date in the past), or undefined when absent or unparseable,
 * in which case the caller falls back to its own backoff.
 */
export function parseRetryAfter(
  value: string | readonly string[] | null | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Date.parse accepts much more than HTTP-date; require the IMF-fixdate shape or the two obsolete forms.
  if (!/^[A-Za-z]{3,9},? /.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
