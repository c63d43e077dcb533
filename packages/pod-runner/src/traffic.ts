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

/**
 * Steady load until stopped: `concurrency` loops of back-to-back requests with ids `<prefix>-<n>`. A
 * request that fails (the agent gone) ends its loop; the ids the agent answered 200 are the lines that
 * must reach the sink.
 */
export class SteadyLoad {
  readonly answered: string[] = [];
  readonly errors: string[] = [];
  readonly #client: AgentClient;
  readonly #loops: Promise<void>[];
  #stopped = false;
  #sequence = 0;

  constructor(client: AgentClient, prefix: string, concurrency = 2) {
    this.#client = client;
    this.#loops = Array.from({ length: concurrency }, async () => {
      while (!this.#stopped) {
        const requestId = `${prefix}-${++this.#sequence}`;
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

  get sent(): number {
    return this.#sequence;
  }

  /** Stops after the requests in flight; resolves with the ids answered 200. */
  async stop(): Promise<string[]> {
    this.#stopped = true;
    await Promise.all(this.#loops);
    return this.answered;
  }
}
