import { describe, expect, it } from 'vitest';
import {
  fixtureText,
  pythonGroups,
  TRACEBACK_CASES,
  tracebackFixture,
} from '../../test/traceback-fixtures.js';
import { Multiline, type MultilineMode } from './multiline.js';

function group(mode: MultilineMode, text: string, maxChars = 10_000) {
  const out: { message: string; offset: number; endOffset: number; truncated: boolean }[] = [];
  const m = new Multiline(mode, maxChars, (message, offset, endOffset, truncated) =>
    out.push({ message, offset, endOffset, truncated }),
  );
  let offset = 0;
  for (const line of text.split('\n')) {
    const end = offset + Buffer.byteLength(line) + 1;
    m.push(line, offset, end, false);
    offset = end;
  }
  return { m, out };
}

const TRACEBACK_311 = [
  'ERROR:agent:request failed',
  'Traceback (most recent call last):',
  '  File "/app/main.py", line 10, in handler',
  '    result = compute(x)',
  '             ^^^^^^^^^^',
  '  File "/app/main.py", line 4, in compute',
  '    return 1 / x',
  '           ~~^~~',
  'ZeroDivisionError: division by zero',
].join('\n');

describe('Multiline', () => {
  it('python: keeps a log line and its 3.11 traceback with ^^^^ markers together', () => {
    const { m, out } = group({ kind: 'python' }, `${TRACEBACK_311}\nINFO:agent:next`);
    expect(out).toHaveLength(1);
    expect(out[0]!.message).toBe(TRACEBACK_311);
    expect(out[0]!.offset).toBe(0);
    expect(out[0]!.endOffset).toBe(Buffer.byteLength(TRACEBACK_311) + 1);
    expect(m.pending).toBe(true);
    m.flush();
    expect(out[1]!.message).toBe('INFO:agent:next');
  });

  it('python: joins chained exceptions', () => {
    const chained = [
      'Traceback (most recent call last):',
      '  File "a.py", line 1, in <module>',
      "KeyError: 'x'",
      '',
      'During handling of the above exception, another exception occurred:',
      '',
      'Traceback (most recent call last):',
      '  File "a.py", line 3, in <module>',
      'ValueError: bad',
    ].join('\n');
    const { m, out } = group({ kind: 'python' }, `${chained}\nnext line`);
    expect(out.map((o) => o.message)).toEqual([chained]);
    m.flush();
    expect(out.map((o) => o.message)).toEqual([chained, 'next line']);
  });

  it('python: a blank line after an exception that is not a chain stays its own record', () => {
    const { m, out } = group(
      { kind: 'python' },
      'Traceback (most recent call last):\n  File "a"\nE: x\n\nplain',
    );
    m.flush();
    expect(out.map((o) => o.message)).toEqual([
      'Traceback (most recent call last):\n  File "a"\nE: x',
      '',
      'plain',
    ]);
  });

  it('python: plain lines stay separate', () => {
    const { m, out } = group({ kind: 'python' }, '{"a":1}\n{"b":2}');
    m.flush();
    expect(out.map((o) => o.message)).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('regex: a matching line starts a record, others continue it', () => {
    const { m, out } = group({ kind: 'regex', firstLine: /^\d{4}-/ }, '2024-01 a\n more\n more2\n2024-02 b');
    m.flush();
    expect(out.map((o) => o.message)).toEqual(['2024-01 a\n more\n more2', '2024-02 b']);
  });

  it('caps a huge group, marks it truncated and still covers every line', () => {
    const lines = ['start', ...Array.from({ length: 100 }, (_, i) => `  frame ${i}`)].join('\n');
    const { m, out } = group({ kind: 'python' }, lines, 50);
    m.flush();
    expect(out).toHaveLength(1);
    expect(out[0]!.truncated).toBe(true);
    expect(out[0]!.message.length).toBeLessThanOrEqual(50);
    expect(out[0]!.endOffset).toBe(Buffer.byteLength(lines) + 1);
  });

  it('none: passes every line straight through', () => {
    const { m, out } = group({ kind: 'none' }, 'a\n  b');
    expect(m.pending).toBe(false);
    expect(out.map((o) => o.message)).toEqual(['a', '  b']);
  });
});

describe('Multiline python, on real Python 3.11 output of the example agent', () => {
  for (const name of TRACEBACK_CASES) {
    it(`${name}: the error line and its whole traceback are one record, the next line another`, () => {
      const fixture = tracebackFixture(name);
      const groups = pythonGroups(fixture.text);
      expect(groups.map((g) => g.message)).toEqual([
        `${fixture.errorLine}\n${fixture.traceback}`,
        fixture.nextLine,
      ]);
      const errorBytes = Buffer.byteLength(`${fixture.errorLine}\n${fixture.traceback}\n`);
      expect(groups[0]).toMatchObject({ offset: 0, endOffset: errorBytes, truncated: false });
      expect(groups[1]).toMatchObject({ offset: errorBytes, endOffset: Buffer.byteLength(fixture.text) });
    });
  }

  it('python-json-logger: a traceback inside the JSON line (exc_info) is one line, one record', () => {
    const text = fixtureText('embedded-exc-info');
    expect(pythonGroups(text).map((g) => g.message)).toEqual([text.slice(0, -1)]);
  });
});
