import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordReceiver, requestIdOf } from './record-receiver.js';

const receivers: RecordReceiver[] = [];
afterEach(async () => {
  for (const receiver of receivers.splice(0)) await receiver.stop();
});

async function started(): Promise<RecordReceiver> {
  const receiver = new RecordReceiver();
  receivers.push(receiver);
  await receiver.start(0);
  return receiver;
}

function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const line = (id: string, fields: Record<string, unknown>) => JSON.stringify({ id, path: '/x.log', fields });

describe('RecordReceiver', () => {
  it('records every record id, plain or gzip, counting a resent record as a duplicate', async () => {
    const receiver = await started();
    const body = `${line('f:0', { request_id: 'a' })}\n${line('f:10', { request_id: 'b' })}\n`;

    expect(await post(receiver.url, body)).toBe(200);
    expect(await post(receiver.url, gzipSync(body), { 'Content-Encoding': 'gzip' })).toBe(200);

    expect(receiver.ledger.total).toBe(4);
    expect(receiver.ledger.distinct).toBe(2);
    expect(receiver.ledger.duplicates).toBe(2);
    expect([...receiver.ledger.byRequestId().keys()]).toEqual(['a', 'b']);
  });

  it('refuses a body with a line that is not a record, and keeps none of it', async () => {
    const receiver = await started();
    expect(await post(receiver.url, `${line('f:0', {})}\nnot json\n`)).toBe(400);
    expect(await post(receiver.url, '{"no":"id"}\n')).toBe(400);
    expect(receiver.ledger.total).toBe(0);
    expect(receiver.statuses.get(400)).toBe(2);
  });

  it('refuses connections while down and accepts again on the same port when back', async () => {
    const receiver = await started();
    const url = receiver.url;
    await receiver.stop();
    await expect(post(url, `${line('f:0', {})}\n`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await receiver.start();
    expect(receiver.url).toBe(url);
    expect(await post(url, `${line('f:0', {})}\n`)).toBe(200);
    expect(receiver.ledger.distinct).toBe(1);
  });
});

describe('requestIdOf', () => {
  it('reads the request id from JSON fields, or from the first line of a record with a traceback', () => {
    expect(requestIdOf({ id: '1', fields: { request_id: 'r1' } })).toBe('r1');
    expect(
      requestIdOf({
        id: '2',
        message: '{"request_id":"r2","status":500}\nTraceback (most recent call last):',
      }),
    ).toBe('r2');
    expect(requestIdOf({ id: '3', message: 'plain text' })).toBeUndefined();
  });
});
