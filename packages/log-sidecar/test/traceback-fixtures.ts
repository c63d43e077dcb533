import { readFileSync } from 'node:fs';
import type { LogRecord } from '../src/record.js';
import { RecordBuilder } from '../src/record-builder.js';
import { Multiline } from '../src/source/multiline.js';

/** Real Python 3.11 output, written by fixtures/tracebacks/make.py through the agent's own formatter. */
export const TRACEBACK_CASES = [
  'carets',
  'chained-during-handling',
  'chained-direct-cause',
  'exception-group',
] as const;
export type TracebackCase = (typeof TRACEBACK_CASES)[number];

export interface TracebackFixture {
  /** The whole file: the error's JSON line, its traceback, then the next request's JSON line. */
  readonly text: string;
  /** The error's JSON line. */
  readonly errorLine: string;
  /** The traceback exactly as Python printed it, without the final newline. */
  readonly traceback: string;
  /** The JSON line after the traceback. */
  readonly nextLine: string;
}

export function fixtureText(name: string): string {
  return readFileSync(new URL(`./fixtures/tracebacks/${name}.log`, import.meta.url), 'utf8');
}

export function tracebackFixture(name: TracebackCase): TracebackFixture {
  const text = fixtureText(name);
  const lines = text.slice(0, -1).split('\n');
  return {
    text,
    errorLine: lines[0]!,
    traceback: lines.slice(1, -1).join('\n'),
    nextLine: lines.at(-1)!,
  };
}

export interface Group {
  readonly message: string;
  readonly offset: number;
  readonly endOffset: number;
  readonly truncated: boolean;
}

/** The groups `--multiline python` makes of a file's text (lines ending in '\n'), flushed at the end. */
export function pythonGroups(text: string, maxChars = 256 * 1024): Group[] {
  const out: Group[] = [];
  const multiline = new Multiline({ kind: 'python' }, maxChars, (message, offset, endOffset, truncated) =>
    out.push({ message, offset, endOffset, truncated }),
  );
  let offset = 0;
  for (const line of text.slice(0, -1).split('\n')) {
    const end = offset + Buffer.byteLength(line) + 1;
    multiline.push(line, offset, end, false);
    offset = end;
  }
  multiline.flush();
  return out;
}

/**
 * A fixture's records as the sidecar builds them with `--format json --multiline python` (and the
 * default `--multiline-field exc_info`): the error record, then the next line's.
 */
export function fixtureRecords(name: TracebackCase, labels: Record<string, string> = {}): LogRecord[] {
  const builder = new RecordBuilder('json', labels, { continuationField: 'exc_info' });
  const source = { fileKey: '1-2-abc', path: '/var/log/agent/requests.log' };
  return pythonGroups(tracebackFixture(name).text).map((g) =>
    builder.build(source, g.message, g.offset, g.endOffset, g.truncated, Date.UTC(2026, 11, 1)),
  );
}

/** The agent's `ts` on the error line of every fixture, 2026-11-22T10:00:00.123Z. */
export const FIXTURE_ERROR_TIME = Date.UTC(2026, 10, 22, 10, 0, 0, 123);
