import type { MetricFamily, Sample } from '../scrape/snapshot.js';

/** One source of families for the merged exposition: the sidecar itself or a scraped target. */
export interface MergeSource {
  readonly name: string;
  readonly families: readonly MetricFamily[];
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
  samples: Sample[] | readonly Sample[];
  shared: boolean;
}

/**
 * Puts several sources' families into one exposition, in source order. A family two sources expose with
 * the same type becomes one family (the first source's HELP and UNIT, then each source's samples); with a
 * different type, or a different unit, the later family is dropped. A series (name and labels) exposed
 * twice is kept from the first source only. Each drop is returned as a conflict.
 */
export function mergeSources(sources: readonly MergeSource[]): MergedExposition {
  const conflicts: MergeConflict[] = [];
  const byName = new Map<string, MergingFamily>();
  const order: MergingFamily[] = [];
  const seriesOwner = new Map<string, string>();

  for (const source of sources) {
    for (const family of source.families) {
      const existing = byName.get(family.name);
      if (
        existing !== undefined &&
        (existing.first.type !== family.type ||
          existing.first.legacyCounter !== family.legacyCounter ||
          existing.first.unit !== family.unit)
      ) {
        conflicts.push({
          kind: 'type',
          family: family.name,
          kept: { source: existing.source, type: describe(existing.first) },
          dropped: { source: source.name, type: describe(family) },
        });
        continue;
      }
      let samples: Sample[] | undefined;
      for (let k = 0; k < family.samples.length; k++) {
        const sample = family.samples[k]!;
        const owner = seriesOwner.get(sample.key);
        if (owner === undefined) {
          seriesOwner.set(sample.key, source.name);
          samples?.push(sample);
          continue;
        }
        conflicts.push({
          kind: 'series',
          series: sample.series,
          kept: { source: owner },
          dropped: { source: source.name, line: sample.line },
        });
        // Copy lazily: without conflicts the family's own frozen array is served as it is.
        samples ??= family.samples.slice(0, k);
      }
      const kept = samples ?? family.samples;
      if (existing === undefined) {
        const merging: MergingFamily = { first: family, source: source.name, samples: kept, shared: true };
        byName.set(family.name, merging);
        order.push(merging);
      } else {
        if (existing.shared) {
          existing.samples = existing.samples.slice();
          existing.shared = false;
        }
        (existing.samples as Sample[]).push(...kept);
      }
    }
  }

  const families = order.map((merging) =>
    merging.samples === merging.first.samples
      ? merging.first
      : Object.freeze({ ...merging.first, samples: Object.freeze(merging.samples) }),
  );
  return { families, conflicts };
}

function describe(family: MetricFamily): string {
  const type = family.legacyCounter ? 'counter (text, no _total)' : family.type;
  return family.unit === undefined ? type : `${type} in ${family.unit}`;
}
