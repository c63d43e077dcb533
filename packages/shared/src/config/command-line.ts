import { ConfigError } from './config-error.js';
import { type LoadConfigInput, loadConfig } from './config-loader.js';
import type { ConfigOf, OptionDefs } from './option.js';

/** What a main needs of `process` to report a config outcome. */
export interface ProgramIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  exit(code: number): never;
}

export const EXIT_CONFIG_ERROR = 2;

/**
 * loadConfig for a main: --help and --version print to stdout and exit 0; a ConfigError is printed as one
 * plain line on stderr (no logger exists yet: its level is part of the config) and exits 2.
 */
export function loadConfigOrExit<O extends OptionDefs>(
  input: LoadConfigInput<O>,
  io: ProgramIo,
): ConfigOf<O> {
  try {
    const result = loadConfig(input);
    if (result.action === 'exit') {
      io.stdout.write(result.output);
      return io.exit(0);
    }
    return result.config;
  } catch (error) {
    return exitOnConfigError(input.program, error, io);
  }
}

/**
 * For config that can only be checked after loading (a CA file a sink opens, say): a ConfigError is
 * reported exactly like one from loadConfigOrExit; anything else is rethrown.
 */
export function exitOnConfigError(program: string, error: unknown, io: ProgramIo): never {
  if (!(error instanceof ConfigError)) throw error;
  io.stderr.write(`${program}: config error: ${error.message}\n`);
  return io.exit(EXIT_CONFIG_ERROR);
}
