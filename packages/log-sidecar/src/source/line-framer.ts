/**
 * Receives one framed line: bytes `[start, end)` of `buffer` (newline and a trailing `\r` stripped), the
 * file offset of its first byte, the offset just after its newline, and whether it was cut.
 * The buffer is reused after the call returns: decode it, never keep it.
 */
export type LineHandler = (
  buffer: Buffer,
  start: number,
  end: number,
  offset: number,
  endOffset: number,
  truncated: boolean,
) => void;

const NEWLINE = 10;
const CARRIAGE_RETURN = 13;

/**
 * Cuts a byte stream into complete lines by scanning for `\n` in the read buffer itself, so a line that
 * fits in one read is never copied. Only the unfinished tail of a read is kept, and never more than
 * `maxLineBytes` of it: a longer line is cut at that size (on a UTF-8 character boundary), the rest is
 * skipped up to its newline, and the record is emitted once the newline arrives, covering the whole line so
 * the checkpoint moves past it. A line without an end therefore costs at most `maxLineBytes` of memory.
 */
export class LineFramer {
  readonly #maxLineBytes: number;
  readonly #onLine: LineHandler;
  /** Offset of the next byte to be pushed. */
  #position = 0;
  /** Held start of an unfinished line. */
  #carry: Buffer | undefined;
  #carryLength = 0;
  #carryOffset = 0;
  /** True once the held line exceeded maxLineBytes: further bytes up to the newline are dropped. */
  #carryTruncated = false;
  /** Set by `halt()` from the line handler: `push` returns after that line. */
  #halted = false;

  constructor(maxLineBytes: number, onLine: LineHandler, position = 0) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1)
      throw new RangeError('maxLineBytes must be >= 1');
    this.#maxLineBytes = maxLineBytes;
    this.#onLine = onLine;
    this.#position = position;
  }

  /** Offset of the next byte expected. */
  get position(): number {
    return this.#position;
  }

  /** Offset where the held, unfinished line starts (equals `position` when nothing is held). */
  get lineStart(): number {
    return this.#hasCarry() ? this.#carryOffset : this.#position;
  }

  /** Bytes of an unfinished line held (at most maxLineBytes). */
  get heldBytes(): number {
    return this.#carryLength;
  }

  /** Forgets any held bytes and continues at `position` (truncation, seek after a checkpoint). */
  reset(position: number): void {
    this.#position = position;
    this.#carryLength = 0;
    this.#carryTruncated = false;
    this.#carryOffset = position;
  }

  /**
   * Called from the line handler: `push` stops after the current line, and `position` is just after its
   * newline, so the bytes after it are framed again when pushed again (the reader re-reads them later).
   */
  halt(): void {
    this.#halted = true;
  }

  /**
   * Frames `buffer[0, length)`, which continues the stream at `position`. Returns how many of those bytes
   * were framed: `length`, or fewer when the handler called `halt()` (`position` then ends a line).
   */
  push(buffer: Buffer, length: number): number {
    const base = this.#position;
    const max = this.#maxLineBytes;
    let start = 0;
    this.#halted = false;
    if (this.#hasCarry()) {
      const newline = buffer.indexOf(NEWLINE, 0);
      if (newline < 0 || newline >= length) {
        this.#appendCarry(buffer, 0, length);
        this.#position = base + length;
        return length;
      }
      this.#appendCarry(buffer, 0, newline);
      this.#emitCarry(base + newline + 1);
      start = newline + 1;
      if (this.#halted) return this.#haltAt(base, start);
    }
    while (start < length) {
      let newline = buffer.indexOf(NEWLINE, start);
      if (newline >= length) newline = -1;
      if (newline < 0) {
        this.#carryOffset = base + start;
        this.#carryLength = 0;
        this.#carryTruncated = false;
        this.#appendCarry(buffer, start, length);
        break;
      }
      let end = newline;
      if (end > start && buffer[end - 1] === CARRIAGE_RETURN) end--;
      if (end - start > max) {
        this.#onLine(
          buffer,
          start,
          start + utf8Cut(buffer, start, max),
          base + start,
          base + newline + 1,
          true,
        );
      } else {
        this.#onLine(buffer, start, end, base + start, base + newline + 1, false);
      }
      start = newline + 1;
      if (this.#halted) return this.#haltAt(base, start);
    }
    this.#position = base + length;
    return length;
  }

  #haltAt(base: number, framed: number): number {
    this.#halted = false;
    this.#position = base + framed;
    return framed;
  }

  /**
   * Emits the held unfinished line as if it ended here (shutdown: the writer is gone, the line is final).
   * Its end offset is the current position, so a restart does not read it again.
   */
  flush(): void {
    if (!this.#hasCarry()) return;
    this.#emitCarry(this.#position);
    // Nothing follows a flushed line: a halt asked for now has nothing to stop.
    this.#halted = false;
  }

  #hasCarry(): boolean {
    return this.#carryLength > 0 || this.#carryTruncated;
  }

  #appendCarry(buffer: Buffer, start: number, end: number): void {
    if (this.#carryTruncated) return;
    const room = this.#maxLineBytes + 1 - this.#carryLength;
    let take = end - start;
    if (take > room) {
      take = room;
    }
    if (take > 0) {
      const needed = this.#carryLength + take;
      if (this.#carry === undefined || this.#carry.length < needed) {
        const grown = Buffer.allocUnsafe(Math.min(this.#maxLineBytes + 1, Math.max(needed, 4096) * 2));
        if (this.#carry !== undefined) this.#carry.copy(grown, 0, 0, this.#carryLength);
        this.#carry = grown;
      }
      buffer.copy(this.#carry, this.#carryLength, start, start + take);
      this.#carryLength += take;
    }
    // One byte over the limit is kept to tell "exactly max" from "longer", then the line is marked cut.
    if (this.#carryLength > this.#maxLineBytes) {
      this.#carryTruncated = true;
      this.#carryLength = utf8Cut(this.#carry!, 0, this.#maxLineBytes);
    }
  }

  #emitCarry(endOffset: number): void {
    const carry = this.#carry ?? Buffer.alloc(0);
    let end = this.#carryLength;
    const truncated = this.#carryTruncated;
    if (!truncated && end > 0 && carry[end - 1] === CARRIAGE_RETURN) end--;
    const offset = this.#carryOffset;
    this.#carryLength = 0;
    this.#carryTruncated = false;
    this.#onLine(carry, 0, end, offset, endOffset, truncated);
    // A huge held line should not pin its buffer for the life of the file.
    if (carry.length > 65_536) this.#carry = undefined;
  }
}

/** Largest length <= max that does not split a UTF-8 character starting at `start`. */
export function utf8Cut(buffer: Buffer, start: number, max: number): number {
  let cut = max;
  // Step back over at most 3 continuation bytes (10xxxxxx) so the cut lands before a lead byte.
  for (let back = 0; back < 3 && cut > 0; back++) {
    const byte = buffer[start + cut];
    if (byte === undefined || (byte & 0xc0) !== 0x80) break;
    cut--;
  }
  return cut;
}
