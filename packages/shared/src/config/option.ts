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
  /** The --help section the option is listed under (`source`, `sinks`, `runtime`, ...). */
  readonly group: string | undefined;
  /**
   * The value as --print-config shows it, secrets masked; without it the parser's format, else String().
   * For a list option it is given one item.
   */
  readonly show: ((value: never) => unknown) | undefined;
  /** The JSON Schema of a structured (fromFile) value; scalar values get theirs from the parser's shape. */
  readonly fileSchema: Readonly<Record<string, unknown>> | undefined;
  /** Phantom field carrying T for type inference. */
  readonly __type?: T;
}

interface OptionSpec<T> {
  readonly description: string;
  readonly valueName?: string;
  readonly defaultText?: string;
  readonly fromFile?: (raw: unknown) => T;
  readonly fileOnly?: boolean;
  readonly group?: string;
  readonly show?: (value: never) => unknown;
  readonly fileSchema?: Readonly<Record<string, unknown>>;
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
    defaultText: spec.defaultText ?? defaultTextOf(parse, repeatable, defaultValue),
    fromFile: spec.fromFile,
    fileOnly: spec.fileOnly ?? false,
    group: spec.group,
    show: spec.show,
    fileSchema: spec.fileSchema,
  });
}

/** A default written the way a user writes the value (`1h`, `256KiB`), so --help never reads `60m`. */
function defaultTextOf(parse: Parser<unknown>, repeatable: boolean, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const format = parse.format?.bind(parse) ?? ((item: unknown) => String(item));
  if (repeatable) {
    const items = value as readonly unknown[];
    return items.length === 0 ? undefined : items.map(format).join(', ');
  }
  if (typeof value === 'object' && !parse.format) return undefined;
  return format(value);
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
