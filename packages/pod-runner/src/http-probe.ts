import { request } from 'node:http';

export interface ProbeResult {
  readonly status: number;
  readonly body: string;
}

/**
 * One HTTP GET the way the kubelet probes: a fresh connection, a timeout, and any error counting as a
 * failure. Resolves with the status and body, rejects on connection errors and timeouts.
 */
export function httpGet(
  url: string,
  timeoutMs = 2_000,
  headers: Record<string, string> = {},
): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Whether a probe at `url` passes now (2xx or 3xx, as the kubelet counts it). */
export async function probePasses(url: string, timeoutMs = 1_000): Promise<boolean> {
  try {
    const { status } = await httpGet(url, timeoutMs);
    return status >= 200 && status < 400;
  } catch {
    return false;
  }
}
