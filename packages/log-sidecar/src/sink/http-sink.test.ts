import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpReceiver } from '@agent-sidecars/shared/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleRecords } from '../../test/sample-records.js';
import { classifyStatus } from '../delivery/retry-policy.js';
import { HttpSink } from './http-sink.js';
import { NdjsonFormat } from './ndjson-format.js';

const never = new AbortController().signal;

describe('HttpSink', () => {
  let dir: string;
  let receiver: HttpReceiver;
  let url: URL;
  const sinks: HttpSink[] = [];
  const sink = (extra: Partial<ConstructorParameters<typeof HttpSink>[0]> = {}) => {
    const created = new HttpSink({
      name: 'ndjson',
      url,
      format: new NdjsonFormat(),
      gzip: false,
      headers: [['X-Team', 'search']],
      requestTimeoutMs: 5000,
      connections: 2,
      ...extra,
    });
    sinks.push(created);
    return created;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'http-sink-'));
    receiver = new HttpReceiver();
    url = await receiver.start();
  });
  afterEach(async () => {
    for (const s of sinks.splice(0)) await s.close();
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('classifies statuses with one table', () => {
    expect([200, 204, 413, 408, 429, 500, 501, 502, 400, 401, 404].map(classifyStatus)).toEqual([
      'delivered',
      'delivered',
      'too-large',
      'retryable',
      'retryable',
      'retryable',
      'rejected',
      'retryable',
      'rejected',
      'rejected',
      'rejected',
    ]);
  });

  it('sends extra headers and an uncompressed body when gzip is off', async () => {
    expect(await sink().send(sampleRecords(2), never)).toMatchObject({ outcome: 'delivered', status: 200 });
    const request = receiver.requests[0]!;
    expect(request.headers['x-team']).toBe('search');
    expect(request.headers['content-type']).toBe('application/x-ndjson');
    expect(request.headers['content-encoding']).toBeUndefined();
    expect(request.body.split('\n')).toHaveLength(3);
  });

  it('reads the bearer token from its file and again after the Secret is rotated', async () => {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'first-token\n');
    const s = sink({ tokenFile });
    await s.send(sampleRecords(1), never);
    // The kubelet swaps a Secret atomically: a new file renamed over the old one.
    await writeFile(join(dir, 'token.new'), 'second-token\n');
    await rename(join(dir, 'token.new'), tokenFile);
    await s.send(sampleRecords(1), never);
    expect(receiver.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer first-token',
      'Bearer second-token',
    ]);
  });

  it('sends basic auth from a user:password file', async () => {
    const basicAuthFile = join(dir, 'basic');
    await writeFile(basicAuthFile, 'shipper:s3cret-pass\n');
    await sink({ basicAuthFile }).send(sampleRecords(1), never);
    expect(receiver.requests[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from('shipper:s3cret-pass').toString('base64')}`,
    );
  });

  it('sends any header from a file (Splunk HEC, Datadog), re-read after the Secret is rotated', async () => {
    const hec = join(dir, 'hec');
    const dd = join(dir, 'dd');
    await writeFile(hec, 'Splunk first-hec-token\n');
    await writeFile(dd, 'dd-key-0001');
    const s = sink({
      headerFiles: [
        ['Authorization', hec],
        ['DD-API-KEY', dd],
      ],
    });
    await s.send(sampleRecords(1), never);
    await writeFile(join(dir, 'hec.new'), 'Splunk second-hec-token\n');
    await rename(join(dir, 'hec.new'), hec);
    await s.send(sampleRecords(1), never);
    expect(receiver.requests.map((r) => [r.headers.authorization, r.headers['dd-api-key']])).toEqual([
      ['Splunk first-hec-token', 'dd-key-0001'],
      ['Splunk second-hec-token', 'dd-key-0001'],
    ]);
  });

  it('waits while a header file is missing and redacts header-file secrets from reasons', async () => {
    const missing = await sink({ headerFiles: [['DD-API-KEY', join(dir, 'absent')]] }).send(
      sampleRecords(1),
      never,
    );
    expect(missing).toMatchObject({
      outcome: 'retryable',
      reason: expect.stringContaining('cannot read header file'),
    });
    expect(receiver.requests).toHaveLength(0);
    const dd = join(dir, 'dd');
    await writeFile(dd, 'dd-very-secret-key');
    receiver.setHandler((req, res) => res.writeHead(400).end(`bad key ${req.headers['dd-api-key']}`));
    const result = await sink({ headerFiles: [['DD-API-KEY', dd]] }).send(sampleRecords(1), never);
    expect(result).toEqual({ outcome: 'rejected', status: 400, reason: 'HTTP 400: bad key [REDACTED]' });
  });

  it('waits (retryable) while the token file is missing, never sending without it', async () => {
    const result = await sink({ tokenFile: join(dir, 'absent') }).send(sampleRecords(1), never);
    expect(result).toMatchObject({ outcome: 'retryable', reason: expect.stringContaining('ENOENT') });
    expect(receiver.requests).toHaveLength(0);
  });

  it('redacts the token from reasons, even when the server echoes it', async () => {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'very-secret-token');
    receiver.setHandler((req, res) => res.writeHead(400).end(`bad header ${req.headers.authorization}`));
    const result = await sink({ tokenFile }).send(sampleRecords(1), never);
    expect(result).toEqual({
      outcome: 'rejected',
      status: 400,
      reason: 'HTTP 400: bad header Bearer [REDACTED]',
    });
  });

  it('retries a 401 when the token changed while the request was in flight', async () => {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'old-token');
    receiver.setHandler((_req, res) => {
      void writeFile(tokenFile, 'new-token-longer').then(() => res.writeHead(401).end());
    });
    const s = sink({ tokenFile });
    expect(await s.send(sampleRecords(1), never)).toMatchObject({ outcome: 'retryable', status: 401 });
    receiver.setHandler((_req, res) => res.writeHead(401).end());
    expect(await s.send(sampleRecords(1), never)).toMatchObject({ outcome: 'rejected', status: 401 });
  });
});
