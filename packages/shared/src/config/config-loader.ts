// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} references are the subject here, not template slips.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, InvalidValue } from './config-error.js';
import { substituteEnvDeep } from './env-substitution.js';
import { type ConfigOf, envName, flagName, type OptionDef, type OptionDefs } from './option.js';

export interface LoadConfigInput<O extends OptionDefs> {
  /** Program name shown in --help, e.g. `log-sidecar`. */
  readonly program: string;
  readonly version: string;
  readonly description: string;
  /** Env var prefix without the trailing underscore, e.g. `LOG_SIDECAR`. */
  readonly envPrefix: string;
  readonly options: O;
  /** Arguments after the program name (process.argv.slice(2)). */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Cross-field checks on the parsed config; throw ConfigError. */
  readonly validate?: (config: ConfigOf<O>, names: OptionNames<O>, context: ValidateContext<O>) => void;
  /** Extra text at the end of --help (an example, exit codes). */
  readonly helpFooter?: string;
  /** --help section headings by option group, in the order they are listed. */
  readonly groups?: Readonly<Record<string, string>>;
  /** Columns to wrap --help to (the terminal's width); 80 when absent. */
  readonly helpWidth?: number;
  /** Offer `--dry-run` (alias: a first argument `validate`) and `--print-config`. */
  readonly checkModes?: boolean;
}

/**
 * How each option was given, for error messages: the flag (`--interval`), the env var
 * (`METRICS_SIDECAR_INTERVAL`) or the file field (`interval (in /etc/x.yaml)`); the flag for a default.
 */
export type OptionNames<O extends OptionDefs> = { readonly [K in keyof O]: string };
/** Each value as the user wrote it (`1h30m`, not 5400000), for error messages; the default's text if unset. */
export type WrittenValues<O extends OptionDefs> = { readonly [K in keyof O]: string | undefined };

/** What cross-field checks may need beyond the values: how they were written, which were set, the env. */
export interface ValidateContext<O extends OptionDefs> {
  readonly written: WrittenValues<O>;
  /** Options set by a flag, env var or file field (not left to their default). */
  readonly given: ReadonlySet<keyof O & string>;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface ValueSource {
  readonly kind: 'flag' | 'env' | 'file' | 'default';
  /** `--interval`, `METRICS_SIDECAR_INTERVAL`, `interval (in /etc/x.yaml)` or `default`. */
  readonly name: string;
}

/** run: start; check: validate only (--dry-run, validate); print: show the effective config (--print-config). */
export type ConfigMode = 'run' | 'check' | 'print';

export type LoadConfigResult<O extends OptionDefs> =
  | {
      readonly action: ConfigMode;
      readonly config: ConfigOf<O>;
      readonly configFile: string | undefined;
      readonly sources: { readonly [K in keyof O]: ValueSource };
    }
  /** --help or --version: print `output` to stdout and exit 0. */
  | { readonly action: 'exit'; readonly output: string };

const CONFIG_KEY = 'config';
const DRY_RUN_KEY = 'dryRun';
const PRINT_KEY = 'printConfig';
const VALIDATE_COMMAND = 'validate';

/**
 * Parses flags, env vars and an optional --config file (YAML or JSON, `${VAR}` substituted) into one frozen
 * typed object, with precedence flag > env > file > default. Throws ConfigError for anything that cannot
 * be used, before anything starts.
 */
export function loadConfig<O extends OptionDefs>(input: LoadConfigInput<O>): LoadConfigResult<O> {
  const { options, envPrefix } = input;
  const keys = Object.keys(options) as (keyof O & string)[];
  for (const reserved of [CONFIG_KEY, DRY_RUN_KEY, PRINT_KEY]) {
    if (reserved in options) throw new Error(`option key "${reserved}" is reserved`);
  }

  let argv = input.argv;
  let mode: ConfigMode = 'run';
  if (input.checkModes && argv[0] === VALIDATE_COMMAND) {
    mode = 'check';
    argv = argv.slice(1);
  }
  const flags = parseFlags({ ...input, argv }, keys);
  if ('output' in flags) return { action: 'exit', output: flags.output };
  if (flags.values.has(PRINT_KEY)) mode = 'print';
  else if (flags.values.has(DRY_RUN_KEY)) mode = 'check';

  const configFile = flags.values.get(CONFIG_KEY)?.[0] ?? input.env[envName(envPrefix, CONFIG_KEY)];
  const fileValues =
    configFile === undefined ? new Map<string, unknown>() : readConfigFile(configFile, keys, options);

  const config: Record<string, unknown> = {};
  const sources: Record<string, ValueSource> = {};
  const written: Record<string, string | undefined> = {};
  for (const key of keys) {
    const def = options[key]!;
    const flag = flagName(key);
    const env = envName(envPrefix, key);
    const fromFlag = flags.values.get(key);
    const fromEnv = def.fileOnly ? undefined : input.env[env];
    if (fromFlag !== undefined) {
      config[key] = parseTexts(def, flag, fromFlag);
      sources[key] = { kind: 'flag', name: flag };
      written[key] = fromFlag.at(-1);
    } else if (fromEnv !== undefined && fromEnv !== '') {
      config[key] = parseTexts(def, env, def.repeatable ? splitList(fromEnv) : [fromEnv]);
      sources[key] = { kind: 'env', name: env };
      written[key] = fromEnv;
    } else if (fileValues.has(key)) {
      const name = `${key} (in ${configFile})`;
      const raw = fileValues.get(key);
      const value = substituted(name, raw, input.env);
      config[key] = parseFileValue(def, substituteName(name, raw, value), value);
      sources[key] = { kind: 'file', name };
      written[key] = typeof value === 'object' ? undefined : String(value);
    } else if (def.required) {
      const where = def.fileOnly
        ? `field ${key} in the --config file`
        : `${flag}, ${env} or field ${key} in the --config file`;
      throw new ConfigError(flag, undefined, 'is required', `set it with ${where}`);
    } else {
      config[key] = def.defaultValue;
      sources[key] = { kind: 'default', name: 'default' };
      written[key] = def.defaultText;
    }
  }

  const frozen = Object.freeze(config) as ConfigOf<O>;
  if (input.validate) {
    const names = Object.fromEntries(
      keys.map((key) => [key, sources[key]!.kind === 'default' ? flagName(key) : sources[key]!.name]),
    ) as OptionNames<O>;
    input.validate(frozen, names, {
      written: Object.freeze(written) as WrittenValues<O>,
      given: new Set(keys.filter((key) => sources[key]!.kind !== 'default')),
      env: input.env,
    });
  }
  return {
    action: mode,
    config: frozen,
    configFile,
    sources: Object.freeze(sources) as { readonly [K in keyof O]: ValueSource },
  };
}

/** The file value with `${VAR}` replaced; an unset variable is a config error naming the field. */
function substituted(name: string, raw: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  try {
    return substituteEnvDeep(raw, env);
  } catch (error) {
    if (error instanceof InvalidValue) {
      throw new ConfigError(name, typeof raw === 'string' ? raw : undefined, error.problem, error.hint);
    }
    throw error;
  }
}

/** `url (in f.yaml)` becomes `url (in f.yaml, from ${LOKI_URL})` when the value was substituted. */
function substituteName(name: string, raw: unknown, value: unknown): string {
  if (typeof raw !== 'string' || raw === value) return name;
  return `${name.slice(0, -1)}, from ${raw})`;
}

/** The terminal's width (stdout, else $COLUMNS), 80 when unknown, never below 40. */
function helpWidthOf(input: {
  readonly helpWidth?: number;
  readonly env: Readonly<Record<string, string | undefined>>;
}): number {
  const columns = input.helpWidth ?? Number(input.env.COLUMNS);
  return Number.isFinite(columns) && columns > 0 ? Math.max(40, Math.min(columns, 200)) : 80;
}

function groupHeading(input: { readonly groups?: Readonly<Record<string, string>> }, group: string): string {
  return input.groups?.[group] ?? `${group[0]!.toUpperCase()}${group.slice(1)}:`;
}

function parseFlags<O extends OptionDefs>(
  input: LoadConfigInput<O>,
  keys: readonly (keyof O & string)[],
): { values: Map<string, string[]> } | { output: string } {
  const values = new Map<string, string[]>();
  const collect = (key: string) => (value: string) => {
    const list = values.get(key) ?? [];
    list.push(value);
    values.set(key, list);
    return list;
  };
  let output = '';
  const program = new Command(input.program)
    .description(input.description)
    .exitOverride()
    .allowExcessArguments(false)
    .configureHelp({
      helpWidth: helpWidthOf(input),
      sortOptions: false,
      // Each option on its own line, its description wrapped below it: with names as long as
      // --sink-basic-auth-file, a two-column layout leaves no room for the text on an 80-column terminal.
      formatItem: (term, _termWidth, description) =>
        description === '' ? `  ${term}` : `  ${term}\n${wrap(description, helpWidthOf(input), '      ')}`,
    })
    .configureOutput({
      writeOut: (text) => {
        output += text;
      },
      writeErr: () => {},
    });
  if (input.checkModes) {
    program.usage(`[options]\n       ${input.program} validate [options]`);
  }
  // Options are listed by group, in the order the groups are declared, then any others.
  const order = Object.keys(input.groups ?? {});
  const sorted = [...keys]
    .filter((key) => !input.options[key]!.fileOnly)
    .sort((a, b) => rank(order, input.options[a]!.group) - rank(order, input.options[b]!.group));
  for (const key of sorted) {
    const def = input.options[key]!;
    const notes = [`env ${envName(input.envPrefix, key)}`];
    if (def.repeatable) notes.push('repeatable');
    if (def.defaultText !== undefined) notes.push(`default ${def.defaultText}`);
    const range = rangeOf(def);
    if (range !== undefined) notes.push(range);
    const flag = new Option(
      `${flagName(key)} ${def.valueName}`,
      `${def.description} (${notes.join('; ')})`,
    ).argParser(collect(key));
    if (def.group !== undefined) flag.helpGroup(groupHeading(input, def.group));
    program.addOption(flag);
  }
  const general = 'Config file, checks and help:';
  program.addOption(
    new Option(
      '--config <file>',
      `YAML or JSON file whose fields are the options above in camelCase (env ${envName(input.envPrefix, CONFIG_KEY)})`,
    )
      .argParser(collect(CONFIG_KEY))
      .helpGroup(general),
  );
  if (input.checkModes) {
    program.addOption(
      new Option(
        '--dry-run',
        'load and check the whole configuration (flags, env, the file and the files it names), then exit 0, or 2 with the first problem, without starting anything; also: validate',
      )
        .argParser(collect(DRY_RUN_KEY))
        .preset('true')
        .helpGroup(general),
    );
    program.addOption(
      new Option(
        '--print-config',
        'check like --dry-run, then print the effective configuration (secrets masked) with where each value came from',
      )
        .argParser(collect(PRINT_KEY))
        .preset('true')
        .helpGroup(general),
    );
  }
  program.version(input.version, '-V, --version');
  program.options.find((o) => o.long === '--version')?.helpGroup(general);
  program.addHelpOption(new Option('-h, --help', 'display this help').helpGroup(general));
  program.addHelpText('after', helpAfter(input, keys));

  try {
    program.parse([...input.argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return { output };
      const message = error.message.replace(/^error: /, '');
      throw new ConfigError(
        'command line',
        undefined,
        message,
        `see ${input.program} --help for the options`,
      );
    }
    throw error;
  }
  for (const key of [CONFIG_KEY, ...keys]) {
    const list = values.get(key);
    const def = input.options[key];
    if (list && list.length > 1 && key !== CONFIG_KEY && def && !def.repeatable) {
      throw new ConfigError(flagName(key), list.at(-1), 'is given more than once', 'give it once');
    }
  }
  return { values };
}

function rank(order: readonly string[], group: string | undefined): number {
  const at = group === undefined ? -1 : order.indexOf(group);
  return at < 0 ? order.length : at;
}

/** The part of --help after the options: file-only fields, how env and files work, the footer. */
function helpAfter<O extends OptionDefs>(
  input: LoadConfigInput<O>,
  keys: readonly (keyof O & string)[],
): string {
  const width = helpWidthOf(input);
  const fileOnly = keys.filter((key) => input.options[key]!.fileOnly);
  const sections: string[] = [];
  if (fileOnly.length > 0) {
    sections.push(
      'Config file only:\n' +
        fileOnly
          .map((key) => wrap(`${key}: ${input.options[key]!.description}`, width - 2, '  ', '    '))
          .join('\n'),
    );
  }
  const example =
    Object.entries(input.options).find(([key]) => key === 'shutdownTimeout') ??
    Object.entries(input.options).find(([, def]) => def.parse.shape?.type === 'duration');
  const exampleKey = example?.[0] ?? keys[0] ?? 'option';
  sections.push(
    wrap(
      `Every option is also an env var (${envName(input.envPrefix, exampleKey)}) and a field of the --config file ` +
        `(${exampleKey}: ${example?.[1].defaultText ?? '...'}); a flag wins over the env var, which wins over the file. ` +
        'In the file, ${VAR} and ${VAR:-default} are replaced from the environment and $$ is a literal $. ' +
        'Durations take h, m, s and ms, also combined (1h30m); sizes B, KiB, MiB or GiB (16MiB).',
      width,
    ),
  );
  if (input.helpFooter) {
    sections.push(
      input.helpFooter
        .split('\n')
        .map((line) => (line.startsWith(' ') || line === '' ? line : wrap(line, width)))
        .join('\n'),
    );
  }
  return `\n${sections.join('\n\n')}\n`;
}

/** `1ms..10m` for a bounded duration, size or count, so --help shows what the loader enforces. */
function rangeOf(def: OptionDef<unknown>): string | undefined {
  const shape = def.parse.shape;
  if (
    shape === undefined ||
    (shape.type !== 'duration' && shape.type !== 'size' && shape.type !== 'integer')
  ) {
    return undefined;
  }
  const format =
    shape.type === 'integer' ? String : (value: number) => def.parse.format?.(value) ?? String(value);
  const min = shape.min !== undefined && shape.min > 0 ? format(shape.min) : undefined;
  const max = shape.max !== undefined ? format(shape.max) : undefined;
  if (min !== undefined && max !== undefined) return `${min}..${max}`;
  if (min !== undefined) return `at least ${min}`;
  if (max !== undefined) return `at most ${max}`;
  return undefined;
}

/** Word-wraps one paragraph; lines that start with a space are kept as they are (examples). */
export function wrap(text: string, width: number, first = '', rest = first): string {
  const words = text.split(/\s+/).filter((word) => word !== '');
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of words) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = rest;
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines.join('\n');
}

function parseTexts(def: OptionDefs[string], name: string, texts: readonly string[]): unknown {
  const parsed = texts.map((text) => parseOne(def, name, text));
  return def.repeatable ? Object.freeze(parsed) : parsed[parsed.length - 1];
}

function parseOne(def: OptionDefs[string], name: string, text: string): unknown {
  try {
    return def.parse(text);
  } catch (error) {
    if (error instanceof InvalidValue) throw new ConfigError(name, text, error.problem, error.hint);
    throw error;
  }
}

function parseFileValue(def: OptionDefs[string], name: string, raw: unknown): unknown {
  if (def.fromFile) {
    try {
      return def.fromFile(raw);
    } catch (error) {
      if (error instanceof InvalidValue) throw new ConfigError(name, undefined, error.problem, error.hint);
      throw error;
    }
  }
  if (def.repeatable) {
    const items = Array.isArray(raw) ? raw : [raw];
    return Object.freeze(items.map((item) => parseOne(def, name, scalarText(def, name, item))));
  }
  return parseOne(def, name, scalarText(def, name, raw));
}

/**
 * A file scalar as text. YAML types are checked against the option's: `path: 5` is a mistake (a number
 * where a glob belongs) even though "5" would be a valid file name, and `gzip: 1` is not a boolean.
 */
function scalarText(def: OptionDef<unknown>, name: string, raw: unknown): string {
  const type = def.parse.shape?.type;
  if (typeof raw === 'string') return raw;
  const numeric = type === 'integer' || type === 'size' || type === 'duration';
  if (typeof raw === 'number' && (numeric || type === undefined)) return String(raw);
  if (typeof raw === 'boolean' && (type === 'boolean' || type === undefined)) return String(raw);
  if (typeof raw === 'number' || typeof raw === 'boolean') {
    throw new ConfigError(
      name,
      String(raw),
      `is a ${typeof raw}, not ${def.valueName}`,
      `write ${def.valueName} as text${def.defaultText === undefined ? '' : `, e.g. "${def.defaultText}"`}`,
    );
  }
  throw new ConfigError(
    name,
    JSON.stringify(raw) ?? String(raw),
    'is not a single value',
    'use a string or a number, e.g. "1s"',
  );
}

function readConfigFile(path: string, keys: readonly string[], options: OptionDefs): Map<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      '--config',
      path,
      `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      'give the path of a readable YAML or JSON file',
    );
  }
  // Loaded only when a config file is given: the parser costs memory that a flags-only sidecar never needs.
  const { parse: parseYaml } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    const firstLine = (error as Error).message.split('\n')[0];
    throw new ConfigError(
      '--config',
      path,
      `is not valid YAML or JSON (${firstLine})`,
      'fix the syntax, e.g. "shutdownTimeout: 25s"',
    );
  }
  if (document === null || document === undefined) return new Map();
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new ConfigError(
      '--config',
      path,
      'is not a mapping of option names to values',
      'write fields like "shutdownTimeout: 25s"',
    );
  }
  const known = new Set(keys);
  for (const field of Object.keys(document)) {
    if (!known.has(field)) {
      const allowed = keys.filter((key) => options[key] !== undefined).join(', ');
      throw new ConfigError(
        `${field} (in ${path})`,
        undefined,
        'is not a known field',
        `use one of: ${allowed}`,
      );
    }
  }
  return new Map(Object.entries(document));
}

/** Splits an env var list on commas that are not inside {} or [] (glob alternatives and classes). */
export function splitList(text: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && depth > 0) depth--;
    else if (c === ',' && depth === 0) {
      items.push(text.slice(start, i));
      start = i + 1;
    }
  }
  items.push(text.slice(start));
  return items.map((item) => item.trim()).filter((item) => item !== '');
}
