import type { ValueSource } from './config-loader.js';
import type { OptionDef, OptionDefs } from './option.js';

/** One value as --print-config shows it: the option's own `show` (which masks secrets), else the parser's format. */
function shown(def: OptionDef<unknown>, value: unknown): unknown {
  if (def.show) return (def.show as (item: unknown) => unknown)(value);
  if (def.parse.format) return def.parse.format(value);
  if (value instanceof URL) return value.href;
  return value;
}

function describeSource(source: ValueSource, configFile: string | undefined): string {
  switch (source.kind) {
    case 'flag':
      return `flag ${source.name}`;
    case 'env':
      return `env ${source.name}`;
    case 'file':
      return `file ${configFile ?? ''}`.trim();
    default:
      return 'default';
  }
}

/**
 * The effective configuration as a config file (YAML whose values are JSON), each field followed by where
 * its value came from. Feeding it back with --config yields the same configuration, secrets aside: those
 * are masked as ***, never printed.
 */
export function renderEffectiveConfig(
  program: string,
  options: OptionDefs,
  config: Readonly<Record<string, unknown>>,
  sources: Readonly<Record<string, ValueSource>>,
  configFile: string | undefined,
): string {
  const lines = [`# Effective configuration of ${program} (secrets masked as ***).`];
  for (const [key, def] of Object.entries(options)) {
    const value = config[key];
    const source = describeSource(sources[key]!, configFile);
    if (value === undefined) {
      lines.push(`# ${key}: not set (${def.defaultText ?? 'no default'})`);
      continue;
    }
    const text = def.repeatable
      ? (value as readonly unknown[]).map((item) => shown(def, item))
      : def.fromFile && !def.show
        ? value
        : shown(def, value);
    lines.push(`${key}: ${JSON.stringify(text, jsonSafe)}  # ${source}`);
  }
  return `${lines.join('\n')}\n`;
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (value instanceof URL) return value.href;
  if (value instanceof RegExp) return value.source;
  return value;
}
