import { Agent, request } from 'node:http';

export interface InferenceOutcome {
  readonly requestId: string;
  readonly status: number;
}

/**
 * Client traffic for the agent: `POST /inference` with a chosen `X-Request-ID`, which the agent puts in
 * its log line, so a test knows exactly which lines must reach the sink.
 */
export class AgentClient {
  readonly #baseUrl: string;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 16 });

  constructor(baseUrl: string) {
    this.#baseUrl = baseUrl;
  }

  inference(requestId: string, input: string, fail = false): Promise<InferenceOutcome> {
    const body = JSON.stringify({ input, fail });
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.#baseUrl}/inference`,
        {
          method: 'POST',
          agent: this.#agent,
          timeout: 10_000,
          headers: {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(body),
            'X-Request-ID': requestId,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ requestId, status: res.statusCode ?? 0 }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`POST /inference ${requestId} timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Sends every id with at most `concurrency` requests in flight; resolves with each outcome. */
  async burst(
    requestIds: readonly string[],
    concurrency = 4,
    input = 'a good and fast answer',
  ): Promise<InferenceOutcome[]> {
    const outcomes: InferenceOutcome[] = [];
    let next = 0;
    const worker = async () => {
      while (next < requestIds.length) {
        const requestId = requestIds[next++]!;
        outcomes.push(await this.inference(requestId, input));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, requestIds.length) }, worker));
    return outcomes;
  }

  close(): void {
    this.#agent.destroy();
  }
}

export interface SteadyLoadOptions {
  /** Requests in flight at once. */
  readonly concurrency?: number;
  /** Paces the requests to about this many a second; without it they go back to back. */
  readonly ratePerSecond?: number;
}

/**
 * Steady load until stopped: `concurrency` loops of requests with ids `<prefix>-<n>`, paced when a rate is
 * given. A request that fails (the agent gone) ends its loop; the ids the agent answered 200 are the lines
 * that must reach the sink.
 */
export class SteadyLoad {
  readonly answered: string[] = [];
  readonly errors: string[] = [];
  readonly #client: AgentClient;
  readonly #loops: Promise<void>[];
  readonly #startedAt = Date.now();
  #stopped = false;
  #sequence = 0;

  constructor(client: AgentClient, prefix: string, options: SteadyLoadOptions = {}) {
    this.#client = client;
    const { concurrency = 2, ratePerSecond } = options;
    this.#loops = Array.from({ length: concurrency }, async () => {
      while (!this.#stopped) {
        const n = ++this.#sequence;
        if (ratePerSecond !== undefined) {
          const wait = this.#startedAt + ((n - 1) * 1000) / ratePerSecond - Date.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          if (this.#stopped) return;
        }
        const requestId = `${prefix}-${n}`;
        try {
          const outcome = await this.#client.inference(requestId, 'steady load is nice');
          if (outcome.status === 200) this.answered.push(requestId);
          else this.errors.push(`${requestId}: HTTP ${outcome.status}`);
        } catch (error) {
          this.errors.push(`${requestId}: ${(error as Error).message}`);
          return;
        }
      }
    });
  }

  /** Requests answered 200 so far. */
  get count(): number {
    return this.answered.length;
  }

  /** Stops after the requests in flight; resolves with the ids answered 200. */
  async stop(): Promise<string[]> {
    this.#stopped = true;
    await Promise.all(this.#loops);
    return this.answered;
  }
}
