import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createGunzip } from 'node:zlib';

/** One shipped record as the NDJSON sink sends it (and the stdout sink prints it). */
export interface ShippedRecord {
  readonly id: string;
  readonly path?: string;
  readonly time?: string;
  readonly message?: string;
  readonly fields?: Readonly<Record<string, unknown>>;
  readonly labels?: Readonly<Record<string, string>>;
  readonly truncated?: boolean;
}

/**
 * Parses one shipped line into a record; throws naming what is wrong, so a malformed line fails a test
 * loudly instead of being counted as a miss.
 */
export function parseShippedRecord(line: string): ShippedRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error(`a shipped record is not JSON: ${line.slice(0, 200)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`a shipped record is not a JSON object: ${line.slice(0, 200)}`);
  }
  const id = (value as { id?: unknown }).id;
  if (typeof id !== 'string' || id === '') {
    throw new Error(`a shipped record has no string "id": ${line.slice(0, 200)}`);
  }
  return value as ShippedRecord;
}

/**
 * The agent's `request_id` of a shipped record: a field of a JSON line (a JSON line followed by its
 * traceback has it too, with `--format json`), or, for such a record shipped as text (`--format raw`), a
 * field of the JSON object on its first line.
 */
export function requestIdOf(record: ShippedRecord): string | undefined {
  const fromFields = record.fields?.request_id;
  if (typeof fromFields === 'string') return fromFields;
  const message = record.message;
  if (message === undefined || !message.startsWith('{')) return undefined;
  const firstLine = message.split('\n', 1)[0]!;
  try {
    const parsed = JSON.parse(firstLine) as { request_id?: unknown };
    return typeof parsed.request_id === 'string' ? parsed.request_id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every record, counted by id: the receiver's view of at-least-once delivery. A record delivered twice
 * has the same id both times; its count goes up, the set of ids does not.
 */
export class RecordLedger {
  readonly #byId = new Map<string, { record: ShippedRecord; count: number }>();
  #total = 0;

  add(record: ShippedRecord): void {
    this.#total += 1;
    const seen = this.#byId.get(record.id);
    if (seen) seen.count += 1;
    else this.#byId.set(record.id, { record, count: 1 });
  }

  /** Records received, duplicates included. */
  get total(): number {
    return this.#total;
  }

  /** Distinct record ids. */
  get distinct(): number {
    return this.#byId.size;
  }

  get duplicates(): number {
    return this.#total - this.#byId.size;
  }

  records(): ShippedRecord[] {
    return [...this.#byId.values()].map((entry) => entry.record);
  }

  /** Distinct records by the agent's request id (see {@link requestIdOf}); lines without one are left out. */
  byRequestId(): Map<string, ShippedRecord[]> {
    const byRequest = new Map<string, ShippedRecord[]>();
    for (const record of this.records()) {
      const requestId = requestIdOf(record);
      if (requestId === undefined) continue;
      const list = byRequest.get(requestId);
      if (list) list.push(record);
      else byRequest.set(requestId, [record]);
    }
    return byRequest;
  }

  /** Distinct records whose JSON fields match, e.g. `{ path: '/inference' }` for the agent's request lines. */
  recordsWithFields(match: Readonly<Record<string, unknown>>): ShippedRecord[] {
    return this.records().filter((record) =>
      Object.entries(match).every(([key, value]) => record.fields?.[key] === value),
    );
  }
}

/**
 * An HTTP sink for tests and the demo: accepts NDJSON POSTs (gzip or not), records every record id, and
 * can be taken down and brought back on the same port to play an outage. Down means the port refuses
 * connections and open keep-alive connections are cut, as when a backend's process dies.
 */
export class RecordReceiver {
  readonly ledger = new RecordLedger();
  /** Requests answered, by status code. */
  readonly statuses = new Map<number, number>();
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #port = 0;
  readonly #host: string;
  readonly #onRecords: ((records: readonly ShippedRecord[]) => void) | undefined;

  constructor(
    options: {
      readonly host?: string;
      readonly onRecords?: (records: readonly ShippedRecord[]) => void;
    } = {},
  ) {
    this.#host = options.host ?? '127.0.0.1';
    this.#onRecords = options.onRecords;
  }

  get port(): number {
    return this.#port;
  }

  /** The URL the log-sidecar's `--sink-url` points at. */
  get url(): string {
    return `http://${this.#host}:${this.#port}/ingest`;
  }

  get listening(): boolean {
    return this.#server?.listening ?? false;
  }

  /** Listens on `port` (0: a free one the first time, the same one when brought back). */
  start(port = this.#port): Promise<number> {
    const server = createServer((req, res) => void this.#handle(req, res));
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.#host, () => {
        server.off('error', reject);
        const address = server.address();
        this.#port = typeof address === 'object' && address !== null ? address.port : port;
        resolve(this.#port);
      });
    });
  }

  /** Goes down: stops listening and cuts every connection, in-flight requests included. */
  stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return this.#answer(res, 405, 'POST NDJSON here\n');
    let text: string;
    try {
      const body = req.headers['content-encoding'] === 'gzip' ? req.pipe(createGunzip()) : req;
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      text = Buffer.concat(chunks).toString('utf8');
    } catch {
      // The sender went away mid-request, or the body is not gzip: nothing was accepted.
      return this.#answer(res, 400, 'unreadable body\n');
    }
    const records: ShippedRecord[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        records.push(parseShippedRecord(line));
      } catch (error) {
        return this.#answer(res, 400, `${(error as Error).message}\n`);
      }
    }
    // Accepted only as a whole, like a real backend's 200: either every record of the request or none.
    for (const record of records) this.ledger.add(record);
    this.#answer(res, 200, '');
    this.#onRecords?.(records);
  }

  #answer(res: ServerResponse, status: number, body: string): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(body);
  }
}
