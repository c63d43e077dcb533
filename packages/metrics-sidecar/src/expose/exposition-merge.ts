import { OPENMETRICS_SUFFIXES } from '../scrape/openmetrics-parser.js';
import {
  type ExpositionFormat,
  type MetricFamily,
  type Sample,
  seriesKey,
  seriesOf,
} from '../scrape/snapshot.js';
import { foldCreatedGauges } from './created-folding.js';

/** One source of families for the merged exposition: the sidecar itself or a scraped target. */
export interface MergeSource {
  readonly name: string;
  readonly families: readonly MetricFamily[];
  /** The format the families were scraped in; text 0.0.4 `_created` gauges are folded into their family. */
  readonly format?: ExpositionFormat;
}

/** Something two sources both exposed; the first source's copy is served. */
export type MergeConflict =
  | {
      readonly kind: 'type';
      readonly family: string;
      readonly kept: { readonly source: string; readonly type: string };
      readonly dropped: { readonly source: string; readonly type: string };
    }
  | {
      readonly kind: 'series';
      readonly series: string;
      readonly kept: { readonly source: string };
      readonly dropped: { readonly source: string; readonly line: number };
    };

export interface MergedExposition {
  readonly families: readonly MetricFamily[];
  readonly conflicts: readonly MergeConflict[];
}

interface MergingFamily {
  readonly first: MetricFamily;
  readonly source: string;
  /** The samples once a second source adds to the family; until then `first`'s (not read: a parsed family makes them on first use). */
  samples: Sample[] | undefined;
  /** Series keys of `samples`, built only once a second source adds to the family. */
  keys: Map<string, string> | undefined;
}

function sampleNames(family: MetricFamily): readonly string[] {
  if (family.legacyCounter) return [family.name];
  return OPENMETRICS_SUFFIXES[family.type].map((suffix) => family.name + suffix);
}

/**
 * Puts several sources' families into one exposition, in source order. A family two sources expose with
 * the same type becomes one family (the first source's HELP and UNIT, then each source's samples); with a
 * different type or unit, or sample names another source's family owns, the later family is dropped. A
 * series (name and labels) exposed twice is kept from the first source only. Each drop is a conflict.
 * Series are compared only within families that two sources share, so the usual case costs nothing.
 */
export function mergeSources(sources: readonly MergeSource[]): MergedExposition {
  const conflicts: MergeConflict[] = [];
  const byName = new Map<string, MergingFamily>();
  const order: MergingFamily[] = [];
  const owners = new Map<string, MergingFamily>();

  for (const source of sources) {
    const families = source.format === 'text' ? foldCreatedGauges(source.families) : source.families;
    for (const family of families) {
      const existing = byName.get(family.name);
      const clash =
        existing === undefined
          ? sampleNames(family)
              .map((name) => owners.get(name))
              .find((owner) => owner !== undefined && owner.source !== source.name)
          : existing;
      if (
        clash !== undefined &&
        (existing === undefined ||
          clash.first.type !== family.type ||
          clash.first.legacyCounter !== family.legacyCounter ||
          clash.first.unit !== family.unit)
      ) {
        conflicts.push({
          kind: 'type',
          family: family.name,
          kept: { source: clash.source, type: describe(clash.first) },
          dropped: { source: source.name, type: describe(family) },
        });
        continue;
      }
      if (existing === undefined) {
        const merging: MergingFamily = {
          first: family,
          source: source.name,
          samples: undefined,
          keys: undefined,
        };
        byName.set(family.name, merging);
        for (const name of sampleNames(family)) if (!owners.has(name)) owners.set(name, merging);
        order.push(merging);
        continue;
      }
      if (existing.keys === undefined) {
        existing.keys = new Map();
        for (const sample of existing.first.samples)
          existing.keys.set(seriesKey(seriesOf(sample)), existing.source);
      }
      existing.samples ??= existing.first.samples.slice();
      const samples = existing.samples;
      for (const sample of family.samples) {
        const key = seriesKey(seriesOf(sample));
        const owner = existing.keys.get(key);
        // The same source repeating a series (with later timestamps) is the source's own business.
        if (owner === undefined || owner === source.name) {
          existing.keys.set(key, source.name);
          samples.push(sample);
          continue;
        }
        conflicts.push({
          kind: 'series',
          series: seriesOf(sample),
          kept: { source: owner },
          dropped: { source: source.name, line: sample.line },
        });
      }
    }
  }

  const families = order.map((merging) =>
    merging.samples === undefined
      ? merging.first
      : Object.freeze({ ...merging.first, samples: Object.freeze(merging.samples) }),
  );
  return { families, conflicts };
}

function describe(family: MetricFamily): string {
  const type = family.legacyCounter ? 'counter (text, no _total)' : family.type;
  return family.unit === undefined ? type : `${type} in ${family.unit}`;
}
