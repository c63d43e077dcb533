/** The exception a traceback ends in, as the OpenTelemetry `exception.type` and `exception.message`. */
export interface ExceptionSummary {
  readonly type: string;
  /** Absent when the exception was raised without a message (`raise KeyboardInterrupt`). */
  readonly message?: string;
}

/**
 * A traceback printed at the top level: `Traceback ...` at column 0, or an exception group's
 * `  + Exception Group Traceback ...`, whose lines all carry a `  | ` margin. Tracebacks nested deeper
 * (the sub-exceptions of a group) are indented further and are not the exception that was raised.
 */
const TOP_HEADER =
  /^(?:Traceback \(most recent call last\):|( {2})\+ Exception Group Traceback \(most recent call last\):)\s*$/;
/** `Type: message` or a bare `Type`, the type maybe qualified by its module (`requests.exceptions.Timeout`). */
const EXCEPTION_LINE = /^([A-Za-z_][\w.]*)(?:: (.*))?$/;

/**
 * Reads a Python traceback's exception from the text Python printed: the line after the frames of the
 * last top-level traceback (with chained exceptions that is the one raised last; for an exception group
 * the group itself, not its sub-exceptions). Undefined when the text holds no Python traceback, or the
 * line found is not `Type: message`.
 */
export function exceptionSummary(traceback: string): ExceptionSummary | undefined {
  const lines = traceback.split('\n');
  let header = -1;
  let margin = '';
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = TOP_HEADER.exec(lines[i]!);
    if (match) {
      header = i;
      margin = match[1] === undefined ? '' : '  | ';
      break;
    }
  }
  if (header < 0) return undefined;
  for (let i = header + 1; i < lines.length; i++) {
    let line = lines[i]!;
    if (margin !== '') {
      if (!line.startsWith(margin)) return undefined;
      line = line.slice(margin.length);
    }
    // Frames, source lines and the 3.11+ ~~~^^^ markers are indented; the exception line is not.
    if (line === '' || line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9) continue;
    const match = EXCEPTION_LINE.exec(line.trimEnd());
    if (!match) return undefined;
    const message = match[2];
    return message === undefined || message === '' ? { type: match[1]! } : { type: match[1]!, message };
  }
  return undefined;
}
