/** When a log line says it happened, read from its own fields (`--format json`). */

/** The line's own time from `ts`, `time` or `timestamp`, in ms since the epoch; undefined if none is usable. */
export function eventTime(fields: globalThis.Record<string, unknown>): number | undefined {
  const value = fields.ts ?? fields.time ?? fields.timestamp;
  if (typeof value === 'number') return epochNumberToMs(value);
  if (typeof value === 'string') return parseTimeText(value);
  return undefined;
}

/** Seconds (Python's time.time()), milliseconds, microseconds or nanoseconds, told apart by magnitude. */
export function epochNumberToMs(value: number): number | undefined {
  if (!Number.isFinite(value) || value <= 0) return undefined;
  if (value < 1e11) return value * 1000;
  if (value < 1e14) return value;
  if (value < 1e17) return value / 1000;
  return value / 1e6;
}

const NUMERIC = /^\d+(?:\.\d+)?$/;
const ISO_LIKE = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * A time written as text: epoch digits, an ISO 8601 / RFC 3339 date-time (with Python's variants), or
 * whatever Date.parse reads. The common fixed-width form is read by `rfc3339` without a regular
 * expression or Date.parse (which cost more than the rest of a JSON line's handling); anything it does
 * not take falls through to `parseTimeTextByDate`, and both give the same number for every input.
 */
export function parseTimeText(text: string): number | undefined {
  const fast = rfc3339(text);
  return fast === undefined ? parseTimeTextByDate(text) : fast;
}

/** The general reader: the regular expressions and Date.parse. */
export function parseTimeTextByDate(text: string): number | undefined {
  if (NUMERIC.test(text)) return epochNumberToMs(Number(text));
  const match = ISO_LIKE.exec(text);
  if (match) {
    // Python writes microseconds (and logging's asctime a comma); Date.parse keeps only milliseconds.
    const zone =
      match[4] === undefined
        ? ''
        : match[4].length === 5
          ? `${match[4].slice(0, 3)}:${match[4].slice(3)}`
          : match[4];
    const whole = Date.parse(`${match[1]}T${match[2]}${zone === '' ? 'Z' : zone.toUpperCase()}`);
    if (Number.isNaN(whole)) return undefined;
    const fraction = match[3] === undefined ? 0 : Number(`0.${match[3]}`) * 1000;
    return whole + fraction;
  }
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? undefined : parsed;
}

const DIGIT_0 = 0x30;

/** The decimal value of the `count` ASCII digits at `at`, or -1 if one is not a digit. */
function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - DIGIT_0;
    if (!(d >= 0 && d <= 9)) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * `YYYY-MM-DD[Tt ]HH:MM:SS[.,fraction][Z|z|+HH:MM|+HHMM|-...]` in ms, computed from its fields; undefined
 * for any other shape and for values Date.parse treats specially (hour 24, out-of-range fields), which
 * `parseTimeTextByDate` then reads. A day past the month's end rolls over as Date.parse does (it only
 * checks 1-31): the day count is linear in the day.
 */
function rfc3339(text: string): number | undefined {
  const n = text.length;
  if (n < 19 || text.charCodeAt(4) !== 0x2d || text.charCodeAt(7) !== 0x2d) return undefined;
  const separator = text.charCodeAt(10);
  if (separator !== 0x54 && separator !== 0x74 && separator !== 0x20) return undefined;
  if (text.charCodeAt(13) !== 0x3a || text.charCodeAt(16) !== 0x3a) return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  let i = 19;
  let fractionEnd = i;
  const mark = text.charCodeAt(i);
  if (mark === 0x2e || mark === 0x2c) {
    fractionEnd = i + 1;
    while (fractionEnd < n && digits(text, fractionEnd, 1) >= 0) fractionEnd++;
    if (fractionEnd === i + 1) return undefined;
  }
  i = fractionEnd;
  let offsetMinutes = 0;
  if (i < n) {
    const zone = text.charCodeAt(i);
    if (zone === 0x5a || zone === 0x7a) {
      if (i + 1 !== n) return undefined;
    } else if (zone === 0x2b || zone === 0x2d) {
      const colon = text.charCodeAt(i + 3) === 0x3a ? 1 : 0;
      if (i + 5 + colon !== n) return undefined;
      const zoneHour = digits(text, i + 1, 2);
      const zoneMinute = digits(text, i + 3 + colon, 2);
      if (zoneHour < 0 || zoneHour > 23 || zoneMinute < 0 || zoneMinute > 59) return undefined;
      offsetMinutes = (zone === 0x2b ? 1 : -1) * (zoneHour * 60 + zoneMinute);
    } else {
      return undefined;
    }
  }
  const whole =
    ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute - offsetMinutes) * 60_000 + second * 1000;
  // The same expression as parseTimeTextByDate's, so the sum is the same double.
  const fraction = fractionEnd === 19 ? 0 : Number(`0.${text.slice(20, fractionEnd)}`) * 1000;
  return whole + fraction;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}
