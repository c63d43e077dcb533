import { describe, expect, it } from 'vitest';
import { BodyWriter, StringSink } from './body-writer.js';

describe('BodyWriter', () => {
  it('writes UTF-8 as Buffer.from would, growing past its first capacity', () => {
    const pieces = ['# HELP a Größe in €\n', 'a{x="日本"} 1', 'b{x="🙂"} 2', 'c 3'.repeat(500)];
    const writer = new BodyWriter(10);
    const sink = new StringSink();
    for (let k = 0; k < 50; k++) {
      for (const piece of pieces) {
        writer.line(piece);
        sink.line(piece);
      }
      writer.write('x');
      sink.write('x');
    }
    const body = writer.finish();
    expect(body.equals(Buffer.from(sink.text))).toBe(true);
    expect(body.toString('utf8')).toBe(sink.text);
  });

  it('keeps no large spare room in the finished body', () => {
    const writer = new BodyWriter(1_000_000);
    writer.line('a 1');
    const body = writer.finish();
    expect(body.toString()).toBe('a 1\n');
    expect(body.buffer.byteLength).toBeLessThan(1_000_000);
  });
});
