/**
 * A configuration value that cannot be used. The message always names the option as the user wrote it
 * (flag, env var or config field), the bad value, what is allowed and an example, e.g.
 * `--batch-timeout: "fast" is not a duration; use a number with h, m, s or ms, alone or combined, e.g. 1s, 1h30m or 250ms`.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly option: string;
  readonly value: string | undefined;

  constructor(option: string, value: string | undefined, problem: string, hint: string) {
    const shown = value === undefined ? '' : `${JSON.stringify(value)} `;
    super(`${option}: ${shown}${problem}; ${hint}`);
    this.option = option;
    this.value = value;
  }
}

/**
 * Thrown by a value parser, which does not know under which name the value was given; the config loader
 * turns it into a ConfigError naming the option.
 */
export class InvalidValue extends Error {
  override readonly name = 'InvalidValue';
  constructor(
    readonly problem: string,
    readonly hint: string,
  ) {
    super(`${problem}; ${hint}`);
  }
}
