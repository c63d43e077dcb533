import { describe, expect, it } from 'vitest';
import { LineFramer } from './line-framer.js';

interface Line {
  text: string;
  offset: number;
  endOffset: number;
  truncated: boolean;
}

function framer(max = 1024) {
  const lines: Line[] = [];
  const f = new LineFramer(max, (buffer, start, end, offset, endOffset, truncated) => {
    lines.push({ text: buffer.toString('utf8', start, end), offset, endOffset, truncated });
  });
  const push = (text: string | Buffer) => {
    const buffer = typeof text === 'string' ? Buffer.from(text) : text;
    // Pushed through a larger reused buffer, as the tailer does: bytes past `length` must be ignored.
    const big = Buffer.alloc(buffer.length + 16, 0x0a);
    buffer.copy(big);
    f.push(big, buffer.length);
  };
  return { f, lines, push };
}

describe('LineFramer', () => {
  it('emits complete lines with their byte offsets', () => {
    const { lines, push } = framer();
    push('a\nbb\n');
    expect(lines).toEqual([
      { text: 'a', offset: 0, endOffset: 2, truncated: false },
      { text: 'bb', offset: 2, endOffset: 5, truncated: false },
    ]);
  });

  it('holds a partial line until its newline arrives, across chunks', () => {
    const { f, lines, push } = framer();
    push('hel');
    push('lo wo');
    expect(lines).toEqual([]);
    expect(f.lineStart).toBe(0);
    push('rld\nnext');
    expect(lines).toEqual([{ text: 'hello world', offset: 0, endOffset: 12, truncated: false }]);
    expect(f.heldBytes).toBe(4);
  });

  it('strips a carriage return before the newline', () => {
    const { lines, push } = framer();
    push('dos\r\n');
    push('sp');
    push('lit\r\n');
    expect(lines.map((l) => l.text)).toEqual(['dos', 'split']);
  });

  it('emits the partial last line on flush, ending at the current position', () => {
    const { f, lines, push } = framer();
    push('one\ntwo');
    f.flush();
    expect(lines.at(-1)).toEqual({ text: 'two', offset: 4, endOffset: 7, truncated: false });
    f.flush();
    expect(lines).toHaveLength(2);
  });

  it('cuts a long line inside one chunk and marks it truncated, covering the whole line', () => {
    const { lines, push } = framer(4);
    push('abcdefgh\nok\n');
    expect(lines).toEqual([
      { text: 'abcd', offset: 0, endOffset: 9, truncated: true },
      { text: 'ok', offset: 9, endOffset: 12, truncated: false },
    ]);
  });

  it('keeps at most max bytes of a line that spans many chunks and never stalls', () => {
    const { f, lines, push } = framer(8);
    for (let i = 0; i < 1000; i++) push('x'.repeat(100));
    expect(f.heldBytes).toBeLessThanOrEqual(8);
    push('tail\nafter\n');
    expect(lines[0]).toEqual({ text: 'x'.repeat(8), offset: 0, endOffset: 100_005, truncated: true });
    expect(lines[1]).toEqual({ text: 'after', offset: 100_005, endOffset: 100_011, truncated: false });
  });

  it('keeps a line of exactly max bytes whole', () => {
    const { lines, push } = framer(4);
    push('ab');
    push('cd\n');
    expect(lines).toEqual([{ text: 'abcd', offset: 0, endOffset: 5, truncated: false }]);
  });

  it('cuts on a UTF-8 character boundary', () => {
    const { lines, push } = framer(4);
    push('aé€\n'); // a(1) é(2) €(3): the cut at 4 would split the euro sign
    expect(lines[0]).toMatchObject({ text: 'aé', truncated: true });
  });

  it('replaces invalid UTF-8 instead of failing', () => {
    const { lines, push } = framer();
    push(Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x0a]));
    expect(lines[0]!.text).toBe('a\uFFFD\uFFFDb');
  });

  it('continues at a given position after reset', () => {
    const { f, lines, push } = framer();
    push('partial');
    f.reset(100);
    push('x\n');
    expect(lines).toEqual([{ text: 'x', offset: 100, endOffset: 102, truncated: false }]);
  });
});

describe('LineFramer.halt', () => {
  it('stops after the line whose handler halted, and frames the rest when pushed again', () => {
    const seen: string[] = [];
    const framer: LineFramer = new LineFramer(1024, (buffer, start, end) => {
      seen.push(buffer.toString('utf8', start, end));
      if (seen.length === 2) framer.halt();
    });
    const chunk = Buffer.from('a\nbb\nccc\ndddd');
    expect(framer.push(chunk, chunk.length)).toBe(5);
    expect(framer.position).toBe(5);
    expect(framer.heldBytes).toBe(0);
    const rest = chunk.subarray(5);
    expect(framer.push(rest, rest.length)).toBe(rest.length);
    expect(seen).toEqual(['a', 'bb', 'ccc']);
    expect(framer.heldBytes).toBe(4);
  });

  it('stops right after a held line completed by the push', () => {
    const seen: string[] = [];
    const framer: LineFramer = new LineFramer(1024, (buffer, start, end) => {
      seen.push(buffer.toString('utf8', start, end));
      framer.halt();
    });
    framer.push(Buffer.from('hel'), 3);
    const chunk = Buffer.from('lo\nnext\n');
    expect(framer.push(chunk, chunk.length)).toBe(3);
    expect(seen).toEqual(['hello']);
    expect(framer.position).toBe(6);
  });
});
