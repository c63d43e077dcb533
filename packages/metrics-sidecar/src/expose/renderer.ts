import { type SampleStore, sampleRangeOf } from '../scrape/sample-store.js';
import type { MetricFamily, MetricType, Sample } from '../scrape/snapshot.js';
import { BodyWriter, StringSink, type TextSink } from './body-writer.js';

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
  const sink = new StringSink();
  writeText(families, sink);
  return sink.text;
}

/** renderText as the UTF-8 body served. */
export function renderTextBody(families: readonly MetricFamily[]): Buffer {
  const writer = new BodyWriter(sizeOf(families));
  writeText(families, writer);
  return writer.finish();
}

function writeText(families: readonly MetricFamily[], out: TextSink): void {
  const names = new Set<string>();
  for (const family of families) names.add(textName(family));
  for (const family of families) {
    const name = textName(family);
    if (family.help !== undefined) out.line(`# HELP ${name} ${escapeTextHelp(family.help)}`);
    out.line(`# TYPE ${name} ${family.legacyCounter ? 'counter' : TEXT_TYPE[family.type]}`);
    const split = family.legacyCounter ? undefined : SPLIT_SUFFIXES[family.type];
    const splitNames = split?.map((suffix) => family.name + suffix);
    const range = sampleRangeOf(family);
    if (
      range !== undefined &&
      (splitNames === undefined || !hasName(range.store, range.first, range.count, splitNames))
    ) {
      // As parsed, nothing split off: runs of the scraped lines, written as spans of the body.
      const store = range.store;
      store.appendRuns(range.first, range.first + range.count, out, (k) => textTrailer(store, k, out));
      continue;
    }
    if (split === undefined || splitNames === undefined) {
      for (const sample of family.samples) textLine(sample, out);
      continue;
    }
    const aside: Sample[][] = split.map(() => []);
    for (const sample of family.samples) {
      const index = sample.name.length > family.name.length ? splitNames.indexOf(sample.name) : -1;
      if (index === -1) textLine(sample, out);
      else aside[index]!.push(sample);
    }
    for (let k = 0; k < split.length; k++) {
      const samples = aside[k]!;
      const gaugeName = splitNames[k]!;
      // A family of that name elsewhere would make this a second TYPE line; its data wins.
      if (samples.length === 0 || names.has(gaugeName)) continue;
      names.add(gaugeName);
      if (family.help !== undefined) out.line(`# HELP ${gaugeName} ${escapeTextHelp(family.help)}`);
      out.line(`# TYPE ${gaugeName} gauge`);
      for (const sample of samples) textLine(sample, out);
    }
  }
}

/**
 * OpenMetrics 1.0: text-format counters without `_total` are served as `unknown` under their own name
 * (renaming series would break queries), `untyped` is `unknown`, timestamps are seconds, and the body ends
 * with exactly one `# EOF`.
 */
export function renderOpenMetrics(families: readonly MetricFamily[]): string {
  const sink = new StringSink();
  writeOpenMetrics(families, sink);
  return sink.text;
}

/** renderOpenMetrics as the UTF-8 body served. */
export function renderOpenMetricsBody(families: readonly MetricFamily[]): Buffer {
  const writer = new BodyWriter(sizeOf(families));
  writeOpenMetrics(families, writer);
  return writer.finish();
}

function writeOpenMetrics(families: readonly MetricFamily[], out: TextSink): void {
  for (const family of families) {
    // Valid text 0.0.4 that is not valid OpenMetrics is served in text only (its reason was logged).
    if (family.openMetricsProblem !== undefined) continue;
    const name = family.name;
    const type = family.legacyCounter ? 'unknown' : family.type;
    out.line(`# TYPE ${name} ${type}`);
    if (family.help !== undefined) out.line(`# HELP ${name} ${escapeOpenMetricsHelp(family.help)}`);
    if (family.unit !== undefined) out.line(`# UNIT ${name} ${family.unit}`);
    const range = sampleRangeOf(family);
    if (range !== undefined) {
      const store = range.store;
      store.appendRuns(range.first, range.first + range.count, out, (k) => openMetricsTrailer(store, k, out));
      continue;
    }
    for (const sample of family.samples) {
      if (sample.timestampMs === undefined && sample.exemplar === undefined) {
        out.line(sample.text);
        continue;
      }
      out.write(sample.text);
      if (sample.timestampMs !== undefined) out.write(` ${sample.timestampMs / 1000}`);
      out.line(sample.exemplar ?? '');
    }
  }
  out.line('# EOF');
}

/** A sample with a timestamp or an exemplar, from the store, as OpenMetrics prints it. */
function openMetricsTrailer(store: SampleStore, k: number, out: TextSink): void {
  out.write(store.text(k));
  const ts = store.timestampMs(k);
  if (ts !== undefined) out.write(` ${ts / 1000}`);
  out.line(store.exemplar(k) ?? '');
}

/** A sample with a timestamp or an exemplar, from the store, as text 0.0.4 prints it (no exemplar). */
function textTrailer(store: SampleStore, k: number, out: TextSink): void {
  const ts = store.timestampMs(k);
  if (ts === undefined) {
    out.line(store.text(k));
    return;
  }
  out.write(store.text(k));
  out.line(` ${integerText(ts)}`);
}

/** Whether one of the `count` samples from `first` is called one of `names`. */
function hasName(store: SampleStore, first: number, count: number, names: readonly string[]): boolean {
  for (let k = first; k < first + count; k++) if (names.includes(store.name(k))) return true;
  return false;
}

/** About the size of either rendering, in bytes when ASCII: the writer's first capacity. */
function sizeOf(families: readonly MetricFamily[]): number {
  let size = 64;
  for (const family of families) {
    size += 3 * family.name.length + (family.help?.length ?? 0) + 64;
    const range = sampleRangeOf(family);
    if (range !== undefined) {
      const store = range.store;
      for (let k = range.first; k < range.first + range.count; k++) {
        size += store.textLength(k) + 1;
        if (store.hasTrailer(k)) size += 20 + (store.exemplar(k)?.length ?? 0);
      }
      continue;
    }
    for (const sample of family.samples) {
      size += sample.text.length + 1;
      if (sample.timestampMs !== undefined) size += 20;
      if (sample.exemplar !== undefined) size += sample.exemplar.length;
    }
  }
  return size;
}

/** The name text 0.0.4 gives a family in its HELP and TYPE lines. */
export function textName(family: MetricFamily): string {
  if (family.legacyCounter) return family.name;
  if (family.type === 'counter') return `${family.name}_total`;
  if (family.type === 'info') return `${family.name}_info`;
  return family.name;
}

function textLine(sample: Sample, out: TextSink): void {
  if (sample.timestampMs === undefined) {
    out.line(sample.text);
    return;
  }
  out.write(sample.text);
  out.line(` ${integerText(sample.timestampMs)}`);
}

/** An integer as digits, never in exponent notation (`${1e21}` is "1e+21", which the text format rejects). */
function integerText(value: number): string {
  const rounded = Math.round(value);
  return Math.abs(rounded) < 1e21 ? String(rounded) : BigInt(rounded).toString();
}

function escapeTextHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

function escapeOpenMetricsHelp(help: string): string {
  return help.replace(/[\\\n"]/g, (c) => (c === '\n' ? '\\n' : c === '"' ? '\\"' : '\\\\'));
}
