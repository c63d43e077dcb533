export type ExpositionErrorKind = 'parse' | 'sample_limit';

/** A body the sidecar refuses to serve, with the 1-based line that made it so (0: the body as a whole). */
export class ExpositionError extends Error {
  override readonly name = 'ExpositionError';
  constructor(
    readonly kind: ExpositionErrorKind,
    readonly line: number,
    readonly problem: string,
  ) {
    super(line > 0 ? `line ${line}: ${problem}` : problem);
  }
}
