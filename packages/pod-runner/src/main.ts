#!/usr/bin/env node
import { join } from 'node:path';
import {
  enumParser,
  integerParser,
  loadConfigOrExit,
  option,
  optionalOption,
  parseBoolean,
  parseDuration,
  parseString,
} from '@agent-sidecars/shared';
import { runDemo } from './demo.js';
import { REPO_ROOT } from './local-pod.js';
import { OutputFormatter } from './output-formatter.js';
import type { Pod } from './pod.js';

const SWITCHES = new Set(['--keep-running']);

/** `--keep-running` alone means `--keep-running true`, so `pnpm demo --keep-running` reads naturally. */
function expandSwitches(argv: readonly string[]): string[] {
  return argv.map((arg, index) =>
    SWITCHES.has(arg) && (argv[index + 1] === undefined || argv[index + 1]!.startsWith('--'))
      ? `${arg}=true`
      : arg,
  );
}

const config = loadConfigOrExit(
  {
    program: 'pod-runner',
    version: '0.1.0',
    description:
      "Runs the example Pod as local processes, in the kubelet's order: log-sidecar, metrics-sidecar, then " +
      'the agent; drives a burst of requests, shows the shipped records and the merged :9090 metrics, and ' +
      'terminates the Pod like the kubelet (the agent first, then the sidecars in reverse order).',
    envPrefix: 'POD_RUNNER',
    options: {
      keepRunning: option(parseBoolean, {
        description: 'stay up after the scenario until Ctrl-C (a bare --keep-running means true)',
        default: false,
        valueName: '[true|false]',
      }),
      requests: option(integerParser(1, 100_000), {
        description: 'requests in the burst',
        default: 20,
        valueName: '<n>',
      }),
      sink: option<'stdout' | 'http'>(enumParser(['stdout', 'http']), {
        description: 'where the log-sidecar ships: its stdout, or an HTTP NDJSON receiver run by the runner',
        default: 'stdout',
        valueName: '<stdout|http>',
      }),
      dir: option(parseString, {
        description: "the Pod's directory (its logs/ is the shared emptyDir, emptied at start)",
        default: join(REPO_ROOT, '.demo'),
        defaultText: '.demo',
        valueName: '<dir>',
      }),
      scrapeInterval: option(parseDuration, {
        description: "the metrics-sidecar's --interval (15s in a real Pod; short here so the demo is quick)",
        default: 2_000,
        defaultText: '2s',
        valueName: '<duration>',
      }),
      terminationGracePeriod: option(parseDuration, {
        description: "the Pod's terminationGracePeriodSeconds, shared by all containers' shutdowns",
        default: 30_000,
        defaultText: '30s',
        valueName: '<duration>',
      }),
      agentPort: optionalOption(integerParser(1, 65_535), {
        description: "the agent's port (default 8000 when free, else a free port)",
        valueName: '<port>',
      }),
      logSidecarPort: optionalOption(integerParser(1, 65_535), {
        description: "the log-sidecar's port (default 9091 when free, else a free port)",
        valueName: '<port>',
      }),
      metricsSidecarPort: optionalOption(integerParser(1, 65_535), {
        description: "the metrics-sidecar's port (default 9090 when free, else a free port)",
        valueName: '<port>',
      }),
      python: option(parseString, {
        description: 'the python3 that runs the FastAPI agent',
        default: '/usr/bin/python3',
        valueName: '<path>',
      }),
    },
    argv: expandSwitches(process.argv.slice(2)),
    env: process.env,
  },
  process,
);

const pods: Pod[] = [];
// The Pod's processes never outlive the runner: whatever ends it, they get SIGKILL on the way out
// (setpriv's parent-death signal covers the runner being SIGKILLed itself).
process.on('exit', () => {
  for (const pod of pods) pod.kill();
});
process.on('uncaughtException', (error) => {
  process.stderr.write(`pod-runner: ${error.stack ?? error.message}\n`);
  process.exit(1);
});

const stop = new AbortController();
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    signals += 1;
    // The first Ctrl-C terminates the Pod gracefully; a second one kills it now.
    if (signals > 1) process.exit(130);
    stop.abort(signal);
  });
}

const code = await runDemo(config, {
  print: (text) => process.stdout.write(`${text}\n`),
  format: new OutputFormatter({ color: process.stdout.isTTY === true && !process.env.NO_COLOR }),
  node: process.execPath,
  env: process.env,
  stop: stop.signal,
  adopt: (pod) => pods.push(pod),
});
process.exitCode = code;
