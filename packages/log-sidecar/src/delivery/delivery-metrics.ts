import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { BulkHistogram, type HistogramSeries } from './bulk-histogram.js';

/** The delivery driver's own metrics, registered once per Delivery on the process's registry. */
export class DeliveryMetrics {
  readonly requests: Counter<'sink' | 'status'>;
  readonly recordsSent: Counter<'sink'>;
  readonly bytesSent: Counter<'sink'>;
  readonly retries: Counter<'sink'>;
  readonly rejected: Counter<'sink' | 'status'>;
  readonly inFlight: Gauge<'sink'>;
  readonly batchRecords: Histogram<'sink'>;
  readonly requestDuration: Histogram<'sink'>;
  readonly deliveryLatency: BulkHistogram;
  readonly spilled: Counter;

  constructor(registry: Registry, bufferedBytes: () => number) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'log_sidecar_sink_requests_total',
      help: 'Requests (batches) sent to a sink, by HTTP status or outcome (ok, error, too-large).',
      labelNames: ['sink', 'status'],
      registers,
    });
    this.recordsSent = new Counter({
      name: 'log_sidecar_sink_records_sent_total',
      help: 'Records a sink acknowledged.',
      labelNames: ['sink'],
      registers,
    });
    this.bytesSent = new Counter({
      name: 'log_sidecar_sink_bytes_sent_total',
      help: 'Request body bytes a sink acknowledged (after compression).',
      labelNames: ['sink'],
      registers,
    });
    this.retries = new Counter({
      name: 'log_sidecar_sink_retries_total',
      help: 'Batches sent again after a retryable failure.',
      labelNames: ['sink'],
      registers,
    });
    this.rejected = new Counter({
      name: 'log_sidecar_sink_records_rejected_total',
      help: 'Records a sink refused for good: lost, and logged as such.',
      labelNames: ['sink', 'status'],
      registers,
    });
    this.inFlight = new Gauge({
      name: 'log_sidecar_sink_requests_in_flight',
      help: 'Requests currently waiting for a sink.',
      labelNames: ['sink'],
      registers,
    });
    this.batchRecords = new Histogram({
      name: 'log_sidecar_sink_batch_records',
      help: 'Records per request.',
      labelNames: ['sink'],
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'log_sidecar_sink_request_duration_seconds',
      help: 'Time from sending a request to its answer.',
      labelNames: ['sink'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.deliveryLatency = new BulkHistogram({
      name: 'log_sidecar_sink_delivery_latency_seconds',
      help: 'Time from reading a line to its acknowledgement by a sink.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5, 10, 30, 60, 300],
      registry,
    });
    this.spilled = new Counter({
      name: 'log_sidecar_delivery_spilled_records_total',
      help: 'Records written to stdout at the shutdown deadline because a sink had not acknowledged them.',
      registers,
    });
    new Gauge({
      name: 'log_sidecar_delivery_buffered_bytes',
      help: 'Bytes of records held until every sink has settled them.',
      registers,
      collect() {
        this.set(bufferedBytes());
      },
    });
  }

  forSink(sink: string): SinkMetrics {
    return {
      requests: (status: string) => this.requests.inc({ sink, status }),
      recordsSent: this.recordsSent.labels({ sink }),
      bytesSent: this.bytesSent.labels({ sink }),
      retries: this.retries.labels({ sink }),
      rejected: (status: string, count: number) => this.rejected.inc({ sink, status }, count),
      inFlight: this.inFlight.labels({ sink }),
      batchRecords: this.batchRecords.labels({ sink }),
      requestDuration: this.requestDuration.labels({ sink }),
      latency: this.deliveryLatency.series(sink),
    };
  }
}

export interface SinkMetrics {
  requests(status: string): void;
  readonly recordsSent: { inc(value?: number): void };
  readonly bytesSent: { inc(value?: number): void };
  readonly retries: { inc(value?: number): void };
  rejected(status: string, count: number): void;
  readonly inFlight: { inc(value?: number): void; dec(value?: number): void };
  readonly batchRecords: { observe(value: number): void };
  readonly requestDuration: { observe(value: number): void };
  readonly latency: HistogramSeries;
}
