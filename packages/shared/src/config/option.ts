import type { Parser } from './parsers.js';

/**
 * One option, defined once: its key is the config-file field (`shutdownTimeout`), from which the flag
 * (`--shutdown-timeout`) and the env var (`<PREFIX>_SHUTDOWN_TIMEOUT`) are derived.
 */
export interface OptionDef<T> {
  readonly parse: Parser<unknown>;
  readonly description: string;
  /** Placeholder shown in --help, e.g. `<duration>`. */
  readonly valueName: string;
  readonly repeatable: boolean;
  readonly required: boolean;
  readonly defaultValue: T | undefined;
  /** How the default reads in --help, e.g. `25s`. */
  readonly defaultText: string | undefined;
  /**
   * For values that have structure in a config file (lists of objects, maps): takes the raw YAML/JSON
   * value and returns the typed one, throwing InvalidValue. Without it, file values must be scalars.
   */
  readonly fromFile: ((raw: unknown) => T) | undefined;
  /** Only settable in the config file (structured values with no sensible flag form). */
  readonly fileOnly: boolean;
  /** Phantom field carrying T for type inference. */
  readonly __type?: T;
}

interface OptionSpec<T> {
  readonly description: string;
  readonly valueName?: string;
  readonly defaultText?: string;
  readonly fromFile?: (raw: unknown) => T;
  readonly fileOnly?: boolean;
}

function define<T>(
  parse: Parser<unknown>,
  spec: OptionSpec<T>,
  repeatable: boolean,
  required: boolean,
  defaultValue: T | undefined,
): OptionDef<T> {
  return Object.freeze({
    parse,
    description: spec.description,
    valueName: spec.valueName ?? '<value>',
    repeatable,
    required,
    defaultValue,
    defaultText: spec.defaultText,
    fromFile: spec.fromFile,
    fileOnly: spec.fileOnly ?? false,
  });
}

/** A single-valued option with a default. */
export function option<T>(parse: Parser<T>, spec: OptionSpec<T> & { readonly default: T }): OptionDef<T> {
  return define(parse, spec, false, false, spec.default);
}

/** A single-valued option that must be given. */
export function requiredOption<T>(parse: Parser<T>, spec: OptionSpec<T>): OptionDef<T> {
  return define(parse, spec, false, true, undefined);
}

/** A single-valued option that may be absent (undefined). */
export function optionalOption<T>(parse: Parser<T>, spec: OptionSpec<T>): OptionDef<T | undefined> {
  return define<T | undefined>(parse, spec, false, false, undefined);
}

/**
 * A repeatable option: the flag may be given several times, the env var holds a comma-separated list
 * (commas inside {} or [] do not split, so globs like `*.{log,txt}` survive), the file field a list.
 */
export function listOption<T>(
  parse: Parser<T>,
  spec: OptionSpec<readonly T[]> & { readonly default?: readonly T[]; readonly required?: boolean },
): OptionDef<readonly T[]> {
  return define<readonly T[]>(parse, spec, true, spec.required ?? false, spec.default ?? []);
}

export type OptionDefs = Readonly<Record<string, OptionDef<unknown>>>;

/** The frozen, typed configuration that a set of option definitions yields. */
export type ConfigOf<O extends OptionDefs> = {
  readonly [K in keyof O]: O[K] extends OptionDef<infer T> ? T : never;
};

export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export function envName(prefix: string, key: string): string {
  return `${prefix}_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}
