import { type MetricFamily, type MetricType, type Sample, seriesKey } from '../scrape/snapshot.js';

const CREATED_OWNERS: ReadonlySet<MetricType> = new Set(['counter', 'histogram', 'summary']);

/**
 * Text 0.0.4 has no `_created` samples, so clients (client_python among them) expose them as a gauge
 * family `<name>_created` after the counter, histogram or summary. Served as OpenMetrics, that family's
 * samples would clash with the `_created` samples the OpenMetrics family owns, so before merging a text
 * source they are folded back into it, each after the last sample of its label set (OpenMetrics keeps a
 * label set's samples together). The series stay the same; text 0.0.4 rendering splits them out again.
 */
export function foldCreatedGauges(families: readonly MetricFamily[]): readonly MetricFamily[] {
  const byName = new Map(families.map((family) => [family.name, family]));
  let folded: Set<MetricFamily> | undefined;
  const result: MetricFamily[] = [];
  for (const family of families) {
    if (folded?.has(family)) continue;
    const createdName = `${family.name}_created`;
    const created =
      CREATED_OWNERS.has(family.type) && !family.legacyCounter ? byName.get(createdName) : undefined;
    if (
      created === undefined ||
      (created.type !== 'gauge' && created.type !== 'unknown') ||
      !created.samples.every((sample) => sample.name === createdName)
    ) {
      result.push(family);
      continue;
    }
    folded ??= new Set();
    folded.add(created);
    const pending = new Map<string, Sample>();
    for (const sample of created.samples) pending.set(groupOf(sample, createdName), sample);
    const lastOfGroup = new Map<string, number>();
    family.samples.forEach((sample, index) => {
      lastOfGroup.set(groupOf(sample, sample.name), index);
    });
    const samples: Sample[] = [];
    family.samples.forEach((sample, index) => {
      samples.push(sample);
      const group = groupOf(sample, sample.name);
      const extra = pending.get(group);
      if (extra !== undefined && lastOfGroup.get(group) === index) {
        samples.push(extra);
        pending.delete(group);
      }
    });
    samples.push(...pending.values());
    result.push(Object.freeze({ ...family, samples: Object.freeze(samples) }));
  }
  if (folded === undefined) return families;
  // A `_created` family that came before its owner was left in place above; drop it where it was.
  return result.filter((family) => !folded.has(family));
}

/** A sample's label set without `le` and `quantile`, in sorted order: what OpenMetrics groups by. */
function groupOf(sample: Sample, name: string): string {
  const labels = seriesKey(sample.text.slice(0, sample.seriesLength)).slice(name.length);
  if (labels === '') return '';
  const group = labels.replace(/(?<=[{,])(?:le|quantile)="[^"]*"(?:,|(?=\}))/, '').replace(/,\}$/, '}');
  return group === '{}' ? '' : group;
}
