/**
 * Milliseconds since the epoch (the fractional part holds microseconds) as a decimal string of
 * nanoseconds, the form Loki and OTLP/JSON take. Built from strings because nanoseconds since 1970 do
 * not fit a double exactly.
 */
export function unixNanos(timeMs: number): string {
  const ms = Math.floor(timeMs);
  const micros = Math.min(999, Math.max(0, Math.round((timeMs - ms) * 1000)));
  return `${ms}${micros < 10 ? '00' : micros < 100 ? '0' : ''}${micros}000`;
}
