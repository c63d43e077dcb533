import type { LogRecord } from '../record.js';

/**
 * A record held by the delivery until every sink it was accepted for has settled it. `pending` counts
 * those sinks; `settled` has one bit per sink (by lane index) so a drain can tell what each sink still owes.
 */
export interface HeldRecord {
  readonly record: LogRecord;
  pending: number;
  settled: number;
}
