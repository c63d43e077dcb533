#!/usr/bin/env node
// Parse-only benchmark of the built parser (run `pnpm exec tsc -b` first):
//   node bench/metrics-sidecar/parse.mjs [--rounds 200] [--runs 5] [--dist path/to/metrics-sidecar/dist] [--kept]
// The run.mjs target body (10,000 series, OpenMetrics, ~1 MB) parsed as the scrape client parses it:
// in chunks of just under 64 KiB, tables sized from the previous scrape. Prints the median of the runs'
// mean CPU ms per parse. `--dist` points at another build (e.g. a copy of an older dist/) to compare.
// `--kept`: one parser reset for each body, as a scrape client keeps one per target (with `--vary`, the
// body's values change every round, as a real target's do; its series stay).
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { targetBody } from './target-body.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '200' },
    kept: { type: 'boolean', default: false },
    vary: { type: 'boolean', default: false },
    runs: { type: 'string', default: '5' },
    dist: {
      type: 'string',
      default: fileURLToPath(new URL('../../packages/metrics-sidecar/dist', import.meta.url)),
    },
  },
});
const mod = await import(pathToFileURL(resolve(values.dist, 'scrape/exposition-parser.js')).href);
// Older builds exported the parser class itself.
const create = mod.createExpositionParser ?? ((format, options) => new mod.ExpositionParser(format, options));
const body = targetBody();
const series = body.split('\n').filter((l) => l && !l.startsWith('#')).length;
const chunking = (text) => {
  const chunks = [];
  for (let i = 0; i < text.length; i += 64 * 1024 - 64) chunks.push(text.slice(i, i + 64 * 1024 - 64));
  return chunks;
};
// --vary: two bodies with the same series whose values differ (every counter, bucket and gauge + 1).
const bodies = [chunking(body)];
if (values.vary) bodies.push(chunking(body.replace(/ (\d+)\.0$/gm, (_m, n) => ` ${Number(n) + 1}.0`)));
let round = 0;
const options = { sampleLimit: 200_000, expectedSamples: series };
const kept = create('openmetrics', options);
function parse() {
  const chunks = bodies[round++ % bodies.length];
  let parser = kept;
  if (values.kept && parser.reset) parser.reset(options);
  else parser = create('openmetrics', options);
  for (const chunk of chunks) parser.push(chunk);
  return parser.end();
}
const rounds = Number(values.rounds);
const results = [];
for (let k = 0; k < 20; k++) parse();
for (let run = 0; run < Number(values.runs); run++) {
  const start = process.cpuUsage();
  for (let k = 0; k < rounds; k++) parse();
  const used = process.cpuUsage(start);
  results.push((used.user + used.system) / 1000 / rounds);
}
const median = [...results].sort((a, b) => a - b)[Math.floor(results.length / 2)];
console.log(
  `${values.dist}: ${median.toFixed(2)} ms CPU per parse of ${series} series (runs: ${results.map((x) => x.toFixed(2)).join(', ')})`,
);
