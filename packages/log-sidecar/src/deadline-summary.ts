/** One (sink, file) pair of the deadline report. */
export interface ShortfallEntry {
  readonly sink: string;
  readonly path: string;
}

/**
 * The closing line of the deadline report. The report has one line per sink and file, so one file missed
 * by two sinks is two lines but one file: files and sinks are counted apart, never as pairs.
 */
export function deadlineSummary(shortfall: readonly ShortfallEntry[]): string {
  const files = new Set(shortfall.map((entry) => entry.path)).size;
  const sinks = new Set(shortfall.map((entry) => entry.sink)).size;
  const what =
    files === 0
      ? 'Records were not fully delivered'
      : `${files} ${files === 1 ? 'file was' : 'files were'} not fully delivered to ${sinks} ${sinks === 1 ? 'sink' : 'sinks'}`;
  return `${what} before the shutdown deadline (see the lines above); exit code 1. Raise --shutdown-timeout (below the Pod's terminationGracePeriodSeconds) or fix the sink.`;
}
