// Preloaded into the sidecar to say where its memory is at its RSS high:
//   node bench/log-sidecar-http/cold-peak.mjs "--flags --import=$PWD/bench/log-sidecar-http/peak-snapshot.mjs"
// Every 25 ms it reads VmRSS; at each new high (by 1 MiB or more) it takes `process.memoryUsage()`, the
// V8 heap spaces and `/proc/self/smaps` summed by kind (the node binary's pages, the glibc heap, thread
// stacks, V8's 256 KiB pages, other anonymous mappings by size), and writes the latest one as JSON to
// PEAK_SNAPSHOT_FILE (default /tmp/peak-snapshot-<pid>.json), with the garbage collections counted up to
// the exit. A profiling aid, never part of the sidecar.
import { readFileSync, writeFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

const out = process.env.PEAK_SNAPSHOT_FILE || `/tmp/peak-snapshot-${process.pid}.json`;
const MiB = 1024 * 1024;
let high = 0;
let latest;
/** Collections so far, by kind: scavenges x the young generation's size is about what was allocated. */
const gcs = { minor: 0, major: 0, incremental: 0, weak: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = entry.detail?.kind ?? entry.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs.minor++;
    else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcs.major++;
    else if (kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) gcs.incremental++;
    else gcs.weak++;
  }
}).observe({ entryTypes: ['gc'] });

function vmRss() {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** RSS of /proc/self/smaps summed by what each mapping is. */
function smapsByKind() {
  const text = readFileSync('/proc/self/smaps', 'utf8');
  const kinds = {};
  const anonBySize = {};
  let current;
  const add = (kind, kb) => {
    kinds[kind] = (kinds[kind] ?? 0) + kb;
  };
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const size = (Number.parseInt(head[2], 16) - Number.parseInt(head[1], 16)) / 1024;
      current = { size, perms: head[3], name: head[4] };
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (!rss || !current) continue;
    const kb = Number(rss[1]);
    if (kb === 0) continue;
    const { name, size } = current;
    if (name.endsWith('/node') || name.endsWith('/bin/node')) add('node binary', kb);
    else if (name === '[heap]') add('[heap] (main malloc arena)', kb);
    else if (name === '[stack]') add('[stack] main thread', kb);
    else if (name.startsWith('/')) add('other files', kb);
    else if (name !== '') add(name, kb);
    else {
      // Anonymous: thread stacks are 8 MiB (+ guard), glibc arenas of other threads reserve 64 MiB.
      const bucket =
        size === 8192 || size === 8196 || size === 8188
          ? 'anon 8 MiB (thread stacks)'
          : size >= 60000 && size <= 65536
            ? 'anon ~64 MiB (malloc arenas)'
            : size === 256
              ? 'anon 256 KiB (V8 pages)'
              : `anon other`;
      add(bucket, kb);
      const key = `${size} kB`;
      anonBySize[key] = (anonBySize[key] ?? 0) + kb;
    }
  }
  const top = Object.entries(anonBySize)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([size, kb]) => `${size}: ${(kb / 1024).toFixed(1)} MiB`);
  const mib = Object.fromEntries(Object.entries(kinds).map(([k, kb]) => [k, +(kb / 1024).toFixed(1)]));
  return { mib, anonymousBySize: top };
}

function snapshot(rss) {
  const usage = process.memoryUsage();
  const spaces = Object.fromEntries(
    getHeapSpaceStatistics().map((s) => [
      s.space_name,
      {
        committedMiB: +(s.physical_space_size / MiB).toFixed(1),
        usedMiB: +(s.space_used_size / MiB).toFixed(1),
      },
    ]),
  );
  const threads = /Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return {
    node: process.version,
    rssMiB: +(rss / MiB).toFixed(1),
    threads: Number(threads),
    memoryUsageMiB: Object.fromEntries(Object.entries(usage).map(([k, v]) => [k, +(v / MiB).toFixed(1)])),
    heapSpaces: spaces,
    gcsSoFar: { ...gcs },
    smaps: smapsByKind(),
  };
}

setInterval(() => {
  const rss = vmRss();
  if (rss < high + MiB) return;
  high = rss;
  latest = snapshot(rss);
  writeFileSync(out, `${JSON.stringify({ ...latest, gcsAtExit: gcs }, null, 1)}\n`);
}, 25).unref();
// The totals at the end, with the snapshot of the highest RSS.
process.on('exit', () => {
  if (latest !== undefined) writeFileSync(out, `${JSON.stringify({ ...latest, gcsAtExit: gcs }, null, 1)}\n`);
});
