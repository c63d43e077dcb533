import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, type ToolProbe, waitFor } from '@agent-sidecars/shared/testing';
import { httpGet, ManagedProcess } from '../../packages/pod-runner/src/index.js';

export const PROMETHEUS = '/usr/bin/prometheus';
/** For `requireTool('prometheus', PROMETHEUS_PROBE)`. */
export const PROMETHEUS_PROBE: ToolProbe = {
  probe: () => (existsSync(PROMETHEUS) ? undefined : `${PROMETHEUS} is missing`),
  install: 'apt-get install prometheus',
};

export interface PrometheusSample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

/** A real Prometheus scraping one target every second, with its own config, data dir and port. */
export class PrometheusServer {
  readonly url: string;
  readonly process: ManagedProcess;

  private constructor(url: string, process: ManagedProcess) {
    this.url = url;
    this.process = process;
  }

  static async start(dir: string, target: string): Promise<PrometheusServer> {
    mkdirSync(dir, { recursive: true });
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 500ms',
        'scrape_configs:',
        '  - job_name: pod',
        '    static_configs:',
        `      - targets: ['${target}']`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    const process = new ManagedProcess({
      name: 'prometheus',
      command: PROMETHEUS,
      args: [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      env: { PATH: '/usr/bin:/bin' },
    });
    const server = new PrometheusServer(`http://127.0.0.1:${port}`, process);
    const gone = new AbortController();
    void process.exited.then(() => gone.abort(`prometheus exited: ${process.tail(5).join(' | ')}`));
    await waitFor(
      'Prometheus to be ready',
      async () => ((await httpGet(`${server.url}/-/ready`)).status === 200 ? true : undefined),
      { timeoutMs: 20_000, intervalMs: 100, signal: gone.signal },
    );
    return server;
  }

  /** An instant query through the HTTP API; throws on anything but a vector answer. */
  async query(promql: string): Promise<PrometheusSample[]> {
    const { status, body } = await httpGet(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const answer = JSON.parse(body) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (status !== 200 || answer.status !== 'success' || answer.data?.resultType !== 'vector') {
      throw new Error(
        `Prometheus query ${promql} failed: HTTP ${status} ${answer.error ?? body.slice(0, 200)}`,
      );
    }
    return answer.data.result.map((sample) => ({ metric: sample.metric, value: Number(sample.value[1]) }));
  }

  async stop(): Promise<void> {
    await this.process.stop('SIGTERM', 5_000);
  }
}
