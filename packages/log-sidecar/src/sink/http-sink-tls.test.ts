import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandProbe, requireTool } from '@agent-sidecars/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleRecords } from '../../test/sample-records.js';
import { HttpSink } from './http-sink.js';
import { NdjsonFormat } from './ndjson-format.js';

const openssl = requireTool('openssl', {
  probe: commandProbe('openssl', ['version']),
  install: 'apt-get install openssl',
});
const never = new AbortController().signal;

describe.skipIf(!openssl.available)('HttpSink over HTTPS', () => {
  let dir: string;
  let server: Server;
  let url: URL;
  let ca: string;
  const bodies: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'http-sink-tls-'));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    // A throwaway self-signed certificate naming the IP the sink connects to (-addext: OpenSSL 1.1.1+).
    const made = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { encoding: 'utf8' },
    );
    expect(made.status, made.stderr).toBe(0);
    ca = readFileSync(cert, 'utf8');
    server = createServer({ key: readFileSync(key), cert: ca }, (req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    url = new URL(`https://127.0.0.1:${address.port}/ingest`);
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const sink = (trusted: string | undefined) =>
    new HttpSink({
      name: 'ndjson',
      url,
      format: new NdjsonFormat(),
      gzip: false,
      headers: [],
      ca: trusted,
      requestTimeoutMs: 5000,
      connections: 2,
    });

  it('delivers to a server whose certificate the given CA signed', async () => {
    const https = sink(ca);
    try {
      expect(await https.send(sampleRecords(3), never)).toMatchObject({ outcome: 'delivered', status: 200 });
      expect(bodies.at(-1)?.trim().split('\n')).toHaveLength(3);
    } finally {
      await https.close();
    }
  });

  it('refuses (retryable, naming the certificate problem) a server it does not trust', async () => {
    const untrusted = sink(undefined);
    const before = bodies.length;
    try {
      const result = await untrusted.send(sampleRecords(1), never);
      expect(result.outcome).toBe('retryable');
      expect(result.outcome === 'retryable' && result.reason).toMatch(/self[- ]signed|certificate/i);
      expect(bodies.length).toBe(before);
    } finally {
      await untrusted.close();
    }
  });
});
