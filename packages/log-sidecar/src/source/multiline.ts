export type MultilineMode =
  | { readonly kind: 'none' }
  | { readonly kind: 'python' }
  /** A line matching `firstLine` starts a record; every other line continues the current one. */
  | { readonly kind: 'regex'; readonly firstLine: RegExp };

/** Receives one finished group: the lines joined by `\n`, the first line's offset, the last line's end. */
export type GroupHandler = (message: string, offset: number, endOffset: number, truncated: boolean) => void;

type PythonState = 'open' | 'traceback' | 'exception' | 'chain';

const TRACEBACK_HEADER =
  /^(?:Traceback \(most recent call last\):|\s*\+? ?Exception Group Traceback \(most recent call last\):)/;
const CHAIN_LINE =
  /^(?:During handling of the above exception, another exception occurred:|The above exception was the direct cause of the following exception:)/;

function startsIndented(line: string): boolean {
  const c = line.charCodeAt(0);
  return c === 32 || c === 9;
}

/**
 * Groups lines into records. `python` keeps a log line together with the traceback that follows it:
 * indented continuation lines, `Traceback (most recent call last):`, frame and source lines, the 3.11+
 * `^^^^` marker lines, exception groups (`+`/`|` lines), the final exception line, and chained
 * exceptions ("During handling of the above exception..."). A group is emitted when a line arrives that
 * cannot continue it, or by `flush()` (the owner calls it after `--multiline-timeout` of quiet and at
 * shutdown). A group longer than `maxBytes` characters keeps its start, is marked truncated, and still
 * covers every line's bytes so the checkpoint moves past them.
 */
export class Multiline {
  readonly #mode: MultilineMode;
  readonly #maxChars: number;
  readonly #emit: GroupHandler;
  #parts: string[] = [];
  #chars = 0;
  #offset = 0;
  #endOffset = 0;
  #truncated = false;
  #state: PythonState = 'open';
  /** A blank line after an exception, held until we know whether a chained exception follows. */
  #blank: { offset: number; endOffset: number } | undefined;

  constructor(mode: MultilineMode, maxChars: number, emit: GroupHandler) {
    this.#mode = mode;
    this.#maxChars = maxChars;
    this.#emit = emit;
  }

  /** True while lines are held, waiting for the next line or the timeout. */
  get pending(): boolean {
    return this.#parts.length > 0 || this.#blank !== undefined;
  }

  /** Offset of the first held byte (the checkpoint must not pass it), or undefined if nothing is held. */
  get pendingOffset(): number | undefined {
    if (this.#parts.length > 0) return this.#offset;
    return this.#blank?.offset;
  }

  push(line: string, offset: number, endOffset: number, truncated: boolean): void {
    const mode = this.#mode;
    if (mode.kind === 'none') {
      this.#emit(line, offset, endOffset, truncated);
    } else if (mode.kind === 'regex') {
      if (this.#parts.length > 0 && !mode.firstLine.test(line)) this.#append(line, endOffset, truncated);
      else this.#start(line, offset, endOffset, truncated);
    } else {
      this.#pushPython(line, offset, endOffset, truncated);
    }
  }

  /** Emits whatever is held. */
  flush(): void {
    if (this.#parts.length > 0) {
      const message = this.#parts.length === 1 ? this.#parts[0]! : this.#parts.join('\n');
      const { offset, endOffset } = { offset: this.#offset, endOffset: this.#endOffset };
      const truncated = this.#truncated;
      this.#parts = [];
      this.#chars = 0;
      this.#truncated = false;
      this.#emit(message, offset, endOffset, truncated);
    }
    const blank = this.#blank;
    if (blank !== undefined) {
      this.#blank = undefined;
      this.#emit('', blank.offset, blank.endOffset, false);
    }
  }

  #pushPython(line: string, offset: number, endOffset: number, truncated: boolean): void {
    if (this.#parts.length === 0) {
      this.#startPython(line, offset, endOffset, truncated);
      return;
    }
    if (this.#blank !== undefined) {
      if (CHAIN_LINE.test(line)) {
        this.#append('', this.#blank.endOffset, false);
        this.#blank = undefined;
        this.#append(line, endOffset, truncated);
        this.#state = 'chain';
        return;
      }
      this.flush();
      this.#startPython(line, offset, endOffset, truncated);
      return;
    }
    switch (this.#state) {
      case 'open':
        if (line.length > 0 && startsIndented(line)) this.#append(line, endOffset, truncated);
        else if (TRACEBACK_HEADER.test(line)) {
          this.#append(line, endOffset, truncated);
          this.#state = 'traceback';
        } else this.#restartPython(line, offset, endOffset, truncated);
        return;
      case 'traceback':
        if (line.length === 0) {
          this.#blank = { offset, endOffset };
          this.#state = 'exception';
        } else {
          // Frames, source lines and ^^^^ markers are indented; the first unindented line is the exception.
          this.#append(line, endOffset, truncated);
          if (!startsIndented(line) && !TRACEBACK_HEADER.test(line)) this.#state = 'exception';
        }
        return;
      case 'exception':
        if (line.length === 0) this.#blank = { offset, endOffset };
        else if (startsIndented(line)) this.#append(line, endOffset, truncated);
        else this.#restartPython(line, offset, endOffset, truncated);
        return;
      case 'chain':
        if (line.length === 0) this.#append(line, endOffset, truncated);
        else if (TRACEBACK_HEADER.test(line)) {
          this.#append(line, endOffset, truncated);
          this.#state = 'traceback';
        } else this.#restartPython(line, offset, endOffset, truncated);
        return;
    }
  }

  #restartPython(line: string, offset: number, endOffset: number, truncated: boolean): void {
    this.flush();
    this.#startPython(line, offset, endOffset, truncated);
  }

  #startPython(line: string, offset: number, endOffset: number, truncated: boolean): void {
    this.#start(line, offset, endOffset, truncated);
    this.#state = TRACEBACK_HEADER.test(line) ? 'traceback' : 'open';
  }

  #start(line: string, offset: number, endOffset: number, truncated: boolean): void {
    this.flush();
    this.#parts.push(line);
    this.#chars = line.length;
    this.#offset = offset;
    this.#endOffset = endOffset;
    this.#truncated = truncated;
  }

  #append(line: string, endOffset: number, truncated: boolean): void {
    this.#endOffset = endOffset;
    if (truncated) this.#truncated = true;
    if (this.#chars + 1 + line.length > this.#maxChars) {
      if (!this.#truncated || this.#chars < this.#maxChars) {
        const room = this.#maxChars - this.#chars - 1;
        if (room > 0) this.#parts.push(line.slice(0, room));
        this.#chars = this.#maxChars;
      }
      this.#truncated = true;
      return;
    }
    this.#parts.push(line);
    this.#chars += 1 + line.length;
  }
}
