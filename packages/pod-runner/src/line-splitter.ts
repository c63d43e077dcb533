/**
 * Cuts a stream of text chunks into lines. A child's output arrives in arbitrary chunks; every consumer
 * here (prefixing, record parsing, waiting for a log line) wants whole lines.
 */
export class LineSplitter {
  #pending = '';
  readonly #onLine: (line: string) => void;

  constructor(onLine: (line: string) => void) {
    this.#onLine = onLine;
  }

  push(chunk: string): void {
    const text = this.#pending + chunk;
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      this.#onLine(text.slice(start, end).replace(/\r$/, ''));
      start = end + 1;
    }
    this.#pending = text.slice(start);
  }

  /** Emits a last line that had no newline (a process that died mid-write). */
  end(): void {
    if (this.#pending !== '') this.#onLine(this.#pending);
    this.#pending = '';
  }
}
