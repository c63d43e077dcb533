import { ConfigError } from './config-error.js';
import { type LoadConfigInput, type LoadConfigResult, loadConfig } from './config-loader.js';
import { renderEffectiveConfig } from './effective-config.js';
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
  const result = loadOrExit(input, io);
  if (result.action !== 'run')
    throw new Error('loadConfigOrExit does not offer --dry-run; use sidecarConfigOrExit');
  return result.config;
}

function loadOrExit<O extends OptionDefs>(
  input: LoadConfigInput<O>,
  io: ProgramIo,
): Exclude<LoadConfigResult<O>, { action: 'exit' }> {
  try {
    const result = loadConfig(input);
    if (result.action === 'exit') {
      io.stdout.write(result.output);
      return io.exit(0);
    }
    return result;
  } catch (error) {
    return exitOnConfigError(input.program, error, io);
  }
}

/**
 * A sidecar's config for its main, with --dry-run / `validate` and --print-config: those run `check` (what
 * can only be checked by touching the machine: secret and CA files readable, a listen host resolvable),
 * print, and exit 0, or 2 on the first problem, without starting anything. For a run, `check` is left to
 * the main, which meets the same conditions while starting.
 */
export async function sidecarConfigOrExit<O extends OptionDefs>(
  input: LoadConfigInput<O>,
  io: ProgramIo,
  check: (config: ConfigOf<O>) => Promise<void> | void,
): Promise<ConfigOf<O>> {
  const result = loadOrExit({ ...input, checkModes: true }, io);
  if (result.action === 'run') return result.config;
  try {
    await check(result.config);
  } catch (error) {
    return exitOnConfigError(input.program, error, io);
  }
  if (result.action === 'print') {
    io.stdout.write(
      renderEffectiveConfig(input.program, input.options, result.config, result.sources, result.configFile),
    );
  }
  io.stderr.write(`${input.program}: the configuration is valid; nothing was started.\n`);
  return io.exit(0);
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
