import type { Registry } from 'prom-client';

/**
 * A histogram with one label (`sink`) that is observed once per record, hundreds of thousands of times a
 * second. prom-client's Histogram validates and hashes labels on every observe, which would cost more
 * than encoding the record; this keeps plain bucket arrays per sink and renders them in prom-client's
 * metric shape when scraped.
 */
export class BulkHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: readonly number[];
  private readonly bySink = new Map<string, HistogramSeries>();

  constructor(options: { name: string; help: string; buckets: readonly number[]; registry: Registry }) {
    this.name = options.name;
    this.help = options.help;
    this.bounds = [...options.buckets].sort((a, b) => a - b);
    // The registry accepts any object with name and get(); it calls get() on each scrape.
    options.registry.registerMetric(this as never);
  }

  /** The series for one sink, to observe into without any lookup. */
  series(sink: string): HistogramSeries {
    let found = this.bySink.get(sink);
    if (!found) {
      found = new HistogramSeries(this.bounds);
      this.bySink.set(sink, found);
    }
    return found;
  }

  get(): {
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: { labels: Record<string, string | number>; value: number; metricName: string }[];
  } {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const [sink, series] of this.bySink) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += series.counts[i]!;
        values.push({
          labels: { le: this.bounds[i]!, sink },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      }
      values.push({ labels: { le: '+Inf', sink }, value: series.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { sink }, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { sink }, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const series of this.bySink.values()) series.reset();
  }
}

export class HistogramSeries {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}
