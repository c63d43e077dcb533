/** Where a renderer writes an exposition: a string (tests, tools) or a Buffer (the served bodies). */
export interface TextSink {
  write(text: string): void;
  /** `text` followed by a newline. */
  line(text: string): void;
}

/** Collects the exposition as one string. */
export class StringSink implements TextSink {
  text = '';

  write(text: string): void {
    this.text += text;
  }

  line(text: string): void {
    this.text += text;
    this.text += '\n';
  }
}

/**
 * Encodes the exposition as UTF-8 straight into one growing Buffer. Concatenating ten thousand sample
 * lines into a string and encoding that costs a cons-string node per piece, a flattening copy and then
 * the encoding; this is one copy, and far less garbage per render.
 */
export class BodyWriter implements TextSink {
  #buffer: Buffer;
  #length = 0;

  /** `capacity`: the expected size in bytes; the buffer grows past it if needed. */
  constructor(capacity: number) {
    this.#buffer = Buffer.allocUnsafe(Math.max(capacity, 1024));
  }

  write(text: string): void {
    // A UTF-16 unit is at most 3 UTF-8 bytes: count exactly only when that bound does not fit.
    if (this.#length + text.length * 3 > this.#buffer.length) this.#reserve(Buffer.byteLength(text));
    this.#length += this.#buffer.write(text, this.#length);
  }

  line(text: string): void {
    this.write(text);
    if (this.#length === this.#buffer.length) this.#reserve(1);
    this.#buffer[this.#length++] = 10;
  }

  /** The bytes written; copied to a Buffer of their own size when the spare room is large. */
  finish(): Buffer {
    const bytes = this.#buffer.subarray(0, this.#length);
    return this.#buffer.length - this.#length > this.#length / 8 ? Buffer.from(bytes) : bytes;
  }

  #reserve(bytes: number): void {
    if (this.#length + bytes <= this.#buffer.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.#buffer.length * 2, this.#length + bytes));
    this.#buffer.copy(bigger, 0, 0, this.#length);
    this.#buffer = bigger;
  }
}
