import type { OptionDef, OptionDefs } from './option.js';
import { formatByteSize, formatDuration, type ValueShape } from './parsers.js';

type Schema = Record<string, unknown>;

/** A string holding a `${VAR}` reference: its type is only known after substitution. */
const TEMPLATED: Schema = { type: 'string', pattern: '\\$\\{' };

function bounded(shape: ValueShape): Schema {
  const bounds: Schema = {};
  if (shape.min !== undefined) bounds.minimum = shape.min;
  if (shape.max !== undefined) bounds.maximum = shape.max;
  return bounds;
}

/**
 * The bounds of a duration or size as written (`1ms`, `10m`). JSON Schema cannot compare "90s" with "1m",
 * so they are annotations (`x-minimum`, `x-maximum`) for editors and readers; the loader enforces them.
 */
function writtenBounds(shape: ValueShape, format: (n: number) => string): Schema {
  const bounds: Schema = {};
  if (shape.min !== undefined && shape.min > 0) bounds['x-minimum'] = format(shape.min);
  if (shape.max !== undefined) bounds['x-maximum'] = format(shape.max);
  return bounds;
}

/** The JSON Schema of one scalar value, from its parser's shape. */
export function shapeSchema(shape: ValueShape | undefined): Schema {
  switch (shape?.type) {
    case 'duration':
      return {
        anyOf: [
          { type: 'string', pattern: shape.pattern, ...writtenBounds(shape, formatDuration) },
          ...(shape.min === 0 ? [{ const: 0 }] : []),
          TEMPLATED,
        ],
      };
    case 'size':
      return {
        anyOf: [
          { type: 'integer', ...bounded(shape) },
          { type: 'string', pattern: shape.pattern, ...writtenBounds(shape, formatByteSize) },
          TEMPLATED,
        ],
      };
    case 'integer':
      return { anyOf: [{ type: 'integer', ...bounded(shape) }, TEMPLATED] };
    case 'boolean':
      return {
        anyOf: [{ type: 'boolean' }, { enum: ['true', 'false', 'yes', 'no', 'on', 'off'] }, TEMPLATED],
      };
    case 'enum':
      return { anyOf: [{ enum: [...(shape.values ?? [])] }, TEMPLATED] };
    case 'string':
      return shape.pattern === undefined
        ? { type: 'string' }
        : { anyOf: [{ type: 'string', pattern: shape.pattern }, TEMPLATED] };
    default:
      return {};
  }
}

function rangeText(shape: ValueShape | undefined): string {
  if (
    shape === undefined ||
    (shape.type !== 'duration' && shape.type !== 'size' && shape.type !== 'integer')
  ) {
    return '';
  }
  const format = shape.type === 'duration' ? formatDuration : shape.type === 'size' ? formatByteSize : String;
  const min = shape.min !== undefined && shape.min > 0 ? format(shape.min) : undefined;
  const max = shape.max !== undefined ? format(shape.max) : undefined;
  if (min !== undefined && max !== undefined) return ` From ${min} to ${max}.`;
  if (min !== undefined) return ` At least ${min}.`;
  if (max !== undefined) return ` At most ${max}.`;
  return '';
}

/** The JSON Schema of one option's file field (a sinks: item field too). */
export function optionSchema(def: OptionDef<unknown>): Schema {
  const description = `${def.description}.${rangeText(def.parse.shape)}${
    def.defaultText === undefined ? '' : ` Default: ${def.defaultText}.`
  }`;
  if (def.fromFile) return { description, ...(def.fileSchema ?? {}) };
  const scalar = shapeSchema(def.parse.shape);
  const schema: Schema = def.repeatable
    ? { anyOf: [scalar, { type: 'array', items: scalar }] }
    : { ...scalar };
  return { description, ...schema };
}

/**
 * The JSON Schema of a sidecar's config file, generated from the same option definitions the loader reads,
 * so a field, type or bound can never be documented in one place and enforced differently in another.
 */
export function configSchema(
  options: OptionDefs,
  meta: { readonly id: string; readonly title: string },
): Schema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: meta.id,
    title: meta.title,
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(options).map(([key, def]) => [key, optionSchema(def)])),
  };
}
