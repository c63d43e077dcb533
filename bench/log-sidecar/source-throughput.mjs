import { statSync } from 'node:fs';
import { CheckpointStore } from '../../packages/log-sidecar/dist/checkpoint/checkpoint-store.js';
import { Pipeline } from '../../packages/log-sidecar/dist/pipeline.js';
import { RecordBuilder } from '../../packages/log-sidecar/dist/record-builder.js';
import { SourceMetrics } from '../../packages/log-sidecar/dist/source-metrics.js';
import { Registry } from '../../packages/log-sidecar/node_modules/prom-client/index.js';
import { createLogger } from '../../packages/shared/dist/index.js';

const format = process.argv[2] ?? 'raw';
const path = '/work/main/bench/.data/big.log';
let n = 0;
const delivery = {
  sinkNames: ['s'],
  accept() {
    n++;
    return true;
  },
  whenWritable: async () => {},
  onAck() {},
  bufferedBytes: 0,
  drain: async () => ({ complete: true, undelivered: [] }),
  close: async () => {},
};
const registry = new Registry();

const metrics = new SourceMetrics(registry, () => []);
const p = new Pipeline({
  delivery,
  store: new CheckpointStore('/tmp/ckx'),
  builder: new RecordBuilder(format, { a: 'b' }),
  metrics,
  logger: createLogger({ name: 'x', level: 'warn' }),
  maxLineBytes: 262144,
  multiline: { kind: 'none' },
  multilineTimeoutMs: 1000,
  readBufferBytes: 256 * 1024,
  rotateWaitMs: 2000,
  checkpointGraceMs: 1e9,
});
const t0 = performance.now();
await p.reconcile(new Map([[path, statSync(path)]]));
await p.readToEnd(new AbortController().signal);
const dt = (performance.now() - t0) / 1000;
console.log(format, n, 'records', (n / dt).toFixed(0), 'lines/s', dt.toFixed(2), 's', process.cpuUsage());
