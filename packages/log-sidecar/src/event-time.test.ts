import { seededRandom } from '@agent-sidecars/shared/testing';
import { describe, expect, it } from 'vitest';
import { parseTimeText, parseTimeTextByDate } from './event-time.js';

/** A date-time near the RFC 3339 shape: every field sometimes out of range, every separator varied. */
function randomTimeText(random: () => number): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const two = (max: number) => String(Math.floor(random() * max)).padStart(2, '0');
  const year = pick(['2024', '1970', '0000', '0099', '9999', '1969', '2000', '2100', '20x4', '202']);
  const date = `${year}-${pick([two(13), '02', '00', '1'])}-${pick([two(32), '29', '31', '32', '00', '3'])}`;
  const time = `${two(25)}:${two(61)}:${two(61)}`;
  const fraction = pick(['', '', '.123', '.123456', ',5', '.', '.0', '.999999999', '.1234567890123']);
  const zone = pick([
    '',
    'Z',
    'z',
    '+02:00',
    '-05:30',
    '+0530',
    '+24:00',
    '+23:59',
    '-00:00',
    '+2:00',
    'ZZ',
    ' ',
    '+02:0',
  ]);
  const text = `${date}${pick(['T', 't', ' ', '_'])}${time}${fraction}${zone}`;
  return random() < 0.1 ? text.slice(0, Math.floor(random() * text.length)) : text;
}

describe('parseTimeText', () => {
  it('gives what the Date.parse reader gives for random date-times, in and out of range (seeded)', () => {
    const random = seededRandom(3339);
    let read = 0;
    for (let n = 0; n < 50_000; n++) {
      const text = randomTimeText(random);
      const expected = parseTimeTextByDate(text);
      const actual = parseTimeText(text);
      if (!Object.is(actual, expected)) expect({ text, actual }).toEqual({ text, actual: expected });
      if (expected !== undefined) read++;
    }
    expect(read).toBeGreaterThan(5_000);
  });

  it('reads the common forms (checked against Date.UTC)', () => {
    expect(parseTimeText('2024-05-01T10:00:00Z')).toBe(Date.UTC(2024, 4, 1, 10));
    expect(parseTimeText('2024-05-01T12:00:00+02:00')).toBe(Date.UTC(2024, 4, 1, 10));
    expect(parseTimeText('2024-05-01 10:00:00,500')).toBe(Date.UTC(2024, 4, 1, 10) + 500);
    expect(parseTimeText('2024-02-30T00:00:00Z')).toBe(Date.UTC(2024, 2, 1));
    expect(parseTimeText('2024-01-01T24:00:00Z')).toBe(Date.UTC(2024, 0, 2));
    expect(parseTimeText('1700000000.5')).toBe(1_700_000_000_500);
  });
});
