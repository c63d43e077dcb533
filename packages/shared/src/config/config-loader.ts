import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, InvalidValue } from './config-error.js';
import { type ConfigOf, envName, flagName, type OptionDefs } from './option.js';

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
  readonly validate?: (config: ConfigOf<O>, names: OptionNames<O>) => void;
  /** Extra text at the end of --help. */
  readonly helpFooter?: string;
}

/**
 * Each option as the user set it, for cross-field error messages: its flag (`--sink-url`), its env var
 * (`LOG_SIDECAR_SINK_URL`) or its file field (`sinkUrl (in /etc/config.yaml)`); the flag when not set.
 */
export type OptionNames<O extends OptionDefs> = { readonly [K in keyof O]: string };

export type LoadConfigResult<O extends OptionDefs> =
  | { readonly action: 'run'; readonly config: ConfigOf<O>; readonly configFile: string | undefined }
  /** --help or --version: print `output` to stdout and exit 0. */
  | { readonly action: 'exit'; readonly output: string };

const CONFIG_KEY = 'config';

/**
 * Parses flags, env vars and an optional --config file (YAML or JSON) into one frozen typed object, with
 * precedence flag > env > file > default. Throws ConfigError for anything that cannot be used, before
 * anything starts.
 */
export function loadConfig<O extends OptionDefs>(input: LoadConfigInput<O>): LoadConfigResult<O> {
  const { options, envPrefix } = input;
  const keys = Object.keys(options) as (keyof O & string)[];
  if (CONFIG_KEY in options) throw new Error(`option key "${CONFIG_KEY}" is reserved for --config`);

  const flags = parseFlags(input, keys);
  if ('output' in flags) return { action: 'exit', output: flags.output };

  const configFile = flags.values.get(CONFIG_KEY)?.[0] ?? input.env[envName(envPrefix, CONFIG_KEY)];
  const fileValues =
    configFile === undefined ? new Map<string, unknown>() : readConfigFile(configFile, keys, options);

  const config: Record<string, unknown> = {};
  const setAs: Record<string, string> = {};
  for (const key of keys) {
    const def = options[key]!;
    const flag = flagName(key);
    const env = envName(envPrefix, key);
    const fromFlag = flags.values.get(key);
    const fromEnv = def.fileOnly ? undefined : input.env[env];
    setAs[key] = flag;
    if (fromFlag !== undefined) {
      config[key] = parseTexts(def, flag, fromFlag);
    } else if (fromEnv !== undefined && fromEnv !== '') {
      setAs[key] = env;
      config[key] = parseTexts(def, env, def.repeatable ? splitList(fromEnv) : [fromEnv]);
    } else if (fileValues.has(key)) {
      setAs[key] = `${key} (in ${configFile})`;
      config[key] = parseFileValue(def, setAs[key], fileValues.get(key));
    } else if (def.required) {
      const where = def.fileOnly
        ? `field ${key} in the --config file`
        : `${flag}, ${env} or field ${key} in the --config file`;
      throw new ConfigError(flag, undefined, 'is required', `set it with ${where}`);
    } else {
      config[key] = def.defaultValue;
    }
  }

  const frozen = Object.freeze(config) as ConfigOf<O>;
  if (input.validate) {
    input.validate(frozen, Object.freeze(setAs) as OptionNames<O>);
  }
  return { action: 'run', config: frozen, configFile };
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
    .version(input.version, '-V, --version')
    .helpOption('-h, --help')
    .exitOverride()
    .allowExcessArguments(false)
    .configureOutput({
      writeOut: (text) => {
        output += text;
      },
      writeErr: () => {},
    });
  program.addOption(
    new Option(
      '--config <file>',
      `YAML or JSON file whose fields are the options below (env ${envName(input.envPrefix, CONFIG_KEY)})`,
    ).argParser(collect(CONFIG_KEY)),
  );
  for (const key of keys) {
    const def = input.options[key]!;
    if (def.fileOnly) continue;
    const parts = [def.description, `(env ${envName(input.envPrefix, key)}`];
    if (def.repeatable) parts.push('; repeatable');
    if (def.defaultText !== undefined) parts.push(`; default ${def.defaultText}`);
    const flag = new Option(`${flagName(key)} ${def.valueName}`, `${parts.join(' ')})`).argParser(
      collect(key),
    );
    program.addOption(flag);
  }
  if (input.helpFooter) program.addHelpText('after', `\n${input.helpFooter}`);

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
    return Object.freeze(items.map((item) => parseOne(def, name, scalarText(name, item))));
  }
  return parseOne(def, name, scalarText(name, raw));
}

function scalarText(name: string, raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
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
