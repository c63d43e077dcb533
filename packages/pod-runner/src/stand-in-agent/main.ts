#!/usr/bin/env node
import { integerParser, loadConfigOrExit, option, parseString } from '@agent-sidecars/shared';
import { RotatingLogFile } from '../rotating-log-file.js';
import { StandInAgent } from './stand-in-agent.js';

const PROGRAM = 'stand-in-agent';

/** The real agent reads these from the environment with the same defaults (examples/agent/agent_log.py). */
function envInt(name: string, fallback: number): number {
  const raw = process.env[name] ?? '';
  if (raw === '') return fallback;
  if (!/^\d+$/.test(raw)) {
    process.stderr.write(
      `${PROGRAM}: ${name}: "${raw}" is not a whole number >= 0; use e.g. ${name}=${fallback}\n`,
    );
    process.exit(2);
  }
  return Number(raw);
}

const config = loadConfigOrExit(
  {
    program: PROGRAM,
    version: '0.1.0',
    description:
      'The Node stand-in for the example FastAPI agent: POST /inference, GET /healthz, GET /metrics, ' +
      'one JSON line per request in $LOG_FILE (rotated by LOG_MAX_BYTES / LOG_BACKUP_COUNT).',
    envPrefix: 'STAND_IN_AGENT',
    options: {
      host: option(parseString, {
        description: 'address to listen on',
        default: '127.0.0.1',
        valueName: '<host>',
      }),
      port: option(integerParser(0, 65_535), {
        description: 'port to listen on',
        default: 8000,
        valueName: '<port>',
      }),
    },
    argv: process.argv.slice(2),
    env: process.env,
  },
  process,
);

const log = new RotatingLogFile({
  path: process.env.LOG_FILE || '/var/log/agent/requests.log',
  maxBytes: envInt('LOG_MAX_BYTES', 10 * 1024 * 1024),
  backupCount: envInt('LOG_BACKUP_COUNT', 3),
});
const agent = new StandInAgent({ log, instance: process.env.AGENT_INSTANCE });
agent.server.listen(config.port, config.host, () => {
  process.stderr.write(`INFO:     stand-in agent running on http://${config.host}:${config.port}\n`);
});
agent.server.on('error', (error) => {
  process.stderr.write(`ERROR:    ${error.message}\n`);
  process.exit(1);
});

let stopping = false;
function stop(signal: string): void {
  // Like uvicorn: the first signal finishes in-flight requests and exits 0, a second one exits at once.
  if (stopping) process.exit(1);
  stopping = true;
  process.stderr.write(`INFO:     ${signal}: shutting down\n`);
  agent.server.close(() => {
    log.close();
    process.stderr.write('INFO:     stopped\n');
    process.exit(0);
  });
  agent.server.closeIdleConnections();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
