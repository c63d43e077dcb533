import type { MetricFamily, MetricType, Sample } from '../scrape/snapshot.js';

/** Text 0.0.4's name for each OpenMetrics type, once OpenMetrics-only samples have been split off. */
const TEXT_TYPE: Readonly<Record<MetricType, string>> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  // A gauge histogram is a set of gauges, but its buckets read best as a histogram (as client_python does).
  gaugehistogram: 'histogram',
  summary: 'summary',
  info: 'gauge',
  stateset: 'gauge',
  unknown: 'untyped',
};

/** OpenMetrics samples that text 0.0.4 has no place for in their family: served as gauges of their own. */
const SPLIT_SUFFIXES: Readonly<Partial<Record<MetricType, readonly string[]>>> = {
  counter: ['_created'],
  histogram: ['_created'],
  summary: ['_created'],
  gaugehistogram: ['_gcount', '_gsum'],
};

/**
 * Prometheus text format 0.0.4: counters are named with `_total`, info families with `_info`,
 * `_created`/`_gcount`/`_gsum` samples become gauge families after their family (as client_python does),
 * UNIT lines and exemplars are dropped, and timestamps are whole milliseconds.
 */
export function renderText(families: readonly MetricFamily[]): string {
  const names = new Set<string>();
  for (const family of families) names.add(textName(family));
  let out = '';
  for (const family of families) {
    const name = textName(family);
    if (family.help !== undefined) out += `# HELP ${name} ${escapeTextHelp(family.help)}\n`;
    out += `# TYPE ${name} ${family.legacyCounter ? 'counter' : TEXT_TYPE[family.type]}\n`;
    const split = family.legacyCounter ? undefined : SPLIT_SUFFIXES[family.type];
    if (split === undefined) {
      for (const sample of family.samples) out += textLine(sample);
      continue;
    }
    const splitNames = split.map((suffix) => family.name + suffix);
    const aside: Sample[][] = split.map(() => []);
    for (const sample of family.samples) {
      const index = sample.name.length > family.name.length ? splitNames.indexOf(sample.name) : -1;
      if (index === -1) out += textLine(sample);
      else aside[index]!.push(sample);
    }
    for (let k = 0; k < split.length; k++) {
      const samples = aside[k]!;
      const gaugeName = splitNames[k]!;
      // A family of that name elsewhere would make this a second TYPE line; its data wins.
      if (samples.length === 0 || names.has(gaugeName)) continue;
      names.add(gaugeName);
      if (family.help !== undefined) out += `# HELP ${gaugeName} ${escapeTextHelp(family.help)}\n`;
      out += `# TYPE ${gaugeName} gauge\n`;
      for (const sample of samples) out += textLine(sample);
    }
  }
  return out;
}

/**
 * OpenMetrics 1.0: text-format counters without `_total` are served as `unknown` under their own name
 * (renaming series would break queries), `untyped` is `unknown`, timestamps are seconds, and the body ends
 * with exactly one `# EOF`.
 */
export function renderOpenMetrics(families: readonly MetricFamily[]): string {
  let out = '';
  for (const family of families) {
    const name = family.name;
    const type = family.legacyCounter ? 'unknown' : family.type;
    out += `# TYPE ${name} ${type}\n`;
    if (family.help !== undefined) out += `# HELP ${name} ${escapeOpenMetricsHelp(family.help)}\n`;
    if (family.unit !== undefined) out += `# UNIT ${name} ${family.unit}\n`;
    for (const sample of family.samples) {
      out += sample.text;
      if (sample.timestampMs !== undefined) out += ` ${sample.timestampMs / 1000}`;
      if (sample.exemplar !== undefined) out += sample.exemplar;
      out += '\n';
    }
  }
  return `${out}# EOF\n`;
}

/** The name text 0.0.4 gives a family in its HELP and TYPE lines. */
export function textName(family: MetricFamily): string {
  if (family.legacyCounter) return family.name;
  if (family.type === 'counter') return `${family.name}_total`;
  if (family.type === 'info') return `${family.name}_info`;
  return family.name;
}

function textLine(sample: Sample): string {
  return sample.timestampMs === undefined
    ? `${sample.text}\n`
    : `${sample.text} ${Math.round(sample.timestampMs)}\n`;
}

function escapeTextHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

function escapeOpenMetricsHelp(help: string): string {
  return help.replace(/[\\\n"]/g, (c) => (c === '\n' ? '\\n' : c === '"' ? '\\"' : '\\\\'));
}
