// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} references are the subject here, not template slips.
import { InvalidValue } from './config-error.js';

const REFERENCE = /\$\$|\$\{([^}]*)\}?/g;
const VARIABLE = /^(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

/**
 * Config-file text with `${VAR}`, `${VAR:-default}` (default when VAR is unset or empty) and `$$` (a
 * literal `$`) replaced from the environment, as in the OpenTelemetry Collector and Vector. `${env:VAR}`
 * is the Collector's spelling of the same. Any other `$` stays as it is. Throws InvalidValue for an unset
 * variable without a default and for a malformed reference, so a typo never ships an empty URL.
 */
export function substituteEnv(text: string, env: Readonly<Record<string, string | undefined>>): string {
  if (!text.includes('$')) return text;
  return text.replace(REFERENCE, (whole, inner: string | undefined) => {
    if (whole === '$$') return '$';
    const match = whole.endsWith('}') ? VARIABLE.exec(inner ?? '') : null;
    if (!match) {
      throw new InvalidValue(
        `has a malformed reference ${whole}`,
        'write ${NAME} or ${NAME:-default} with a variable name of letters, digits and _, and $$ for a literal $',
      );
    }
    const name = match[1]!;
    const value = env[name];
    if (match[2] !== undefined) return value === undefined || value === '' ? match[2] : value;
    if (value === undefined) {
      throw new InvalidValue(
        `uses \${${name}}, which is not set in the environment`,
        `set ${name}, or give a default as in \${${name}:-value}`,
      );
    }
    return value;
  });
}

/**
 * substituteEnv on every string in a parsed YAML/JSON value (mapping keys stay as written). An error names
 * where inside the value it is, in the words of the sinks: list errors (`item 2, field url: ...`).
 */
export function substituteEnvDeep(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  where: readonly string[] = [],
): unknown {
  if (typeof value === 'string') {
    try {
      return substituteEnv(value, env);
    } catch (error) {
      if (!(error instanceof InvalidValue) || where.length === 0) throw error;
      throw new InvalidValue(`${where.join(', ')}: ${error.problem}`, error.hint);
    }
  }
  if (Array.isArray(value)) {
    return value.map((item, index) => substituteEnvDeep(item, env, [...where, `item ${index + 1}`]));
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        substituteEnvDeep(item, env, [...where, `field ${key}`]),
      ]),
    );
  }
  return value;
}
