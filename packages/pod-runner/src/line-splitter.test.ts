import { describe, expect, it } from 'vitest';
import { LineSplitter } from './line-splitter.js';

describe('LineSplitter', () => {
  it('emits whole lines from chunks cut anywhere, without CR or LF', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    for (const chunk of ['fir', 'st\nsec', 'ond\r\n', '\nthird', '\n']) splitter.push(chunk);
    expect(lines).toEqual(['first', 'second', '', 'third']);
  });

  it('emits a last line without a newline only at the end', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    splitter.push('done\npartial');
    expect(lines).toEqual(['done']);
    splitter.end();
    splitter.end();
    expect(lines).toEqual(['done', 'partial']);
  });
});
