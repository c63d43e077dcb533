import type { LogRecord } from '../src/record.js';

/** `count` records of one file, 20 bytes each, with a quote and a non-ASCII letter in the message. */
export function sampleRecords(count: number, overrides: Partial<LogRecord> = {}): LogRecord[] {
  return Array.from({ length: count }, (_, n) => ({
    id: `k1-${n * 20}`,
    fileKey: 'k1',
    path: '/var/log/agent/app.log',
    offset: n * 20,
    endOffset: (n + 1) * 20,
    time: Date.UTC(2024, 4, 6, 7, 8, 9, 5) + n + 0.25,
    message: `line ${n} "quoted" é`,
    fields: undefined,
    labels: { pod: 'agent-0', namespace: 'prod' },
    truncated: false,
    readAt: Date.UTC(2024, 4, 6, 7, 8, 10),
    bytes: 20,
    ...overrides,
  }));
}
