import { request } from 'node:http';

/** 10,000 series: 500 histograms of 12 buckets + sum + count (7,000), 1,500 counters, 1,500 gauges, ~1 MB. */
export function targetBody() {
  let out = '';
  const routes = Array.from({ length: 50 }, (_, i) => `/api/v1/resource_${i}/items`);
  const methods = [
    'GET',
    'POST',
    'PUT',
    'DELETE',
    'PATCH',
    'HEAD',
    'OPTIONS',
    'TRACE',
    'CONNECT',
    'PROPFIND',
  ];
  const buckets = [
    '0.005',
    '0.01',
    '0.025',
    '0.05',
    '0.075',
    '0.1',
    '0.25',
    '0.5',
    '1.0',
    '2.5',
    '5.0',
    '+Inf',
  ];
  out += '# TYPE agent_request_duration_seconds histogram\n';
  out += '# HELP agent_request_duration_seconds Time spent handling a request.\n';
  for (const route of routes) {
    for (const method of methods) {
      const labels = `method="${method}",route="${route}"`;
      let count = 0;
      for (const le of buckets) {
        count += 3;
        out += `agent_request_duration_seconds_bucket{${labels},le="${le}"} ${count}.0\n`;
      }
      out += `agent_request_duration_seconds_count{${labels}} ${count}.0\n`;
      out += `agent_request_duration_seconds_sum{${labels}} ${(count * 0.123).toFixed(3)}\n`;
    }
  }
  out += '# TYPE agent_tokens counter\n# HELP agent_tokens Tokens produced by the model.\n';
  for (let i = 0; i < 1500; i++) {
    out += `agent_tokens_total{model="model-${i % 30}",tenant="tenant-${i}",kind="completion"} ${i * 17}.0\n`;
  }
  out += '# TYPE agent_queue_depth gauge\n# HELP agent_queue_depth Requests waiting per worker.\n';
  for (let i = 0; i < 1500; i++) {
    out += `agent_queue_depth{worker="worker-${i}",pool="pool-${i % 10}",zone="zone-a"} ${i % 13}.0\n`;
  }
  return `${out}# EOF\n`;
}

/** GET `url` with `headers`: status, headers and the whole body (the benchmarks' one HTTP client). */
export function get(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** One GET of a sidecar's /metrics on `port` as the Prometheus scraping it asks: OpenMetrics, gzipped. */
export function getAsPrometheus(port) {
  return get(`http://127.0.0.1:${port}/metrics`, {
    Accept: 'application/openmetrics-text;version=1.0.0',
    'Accept-Encoding': 'gzip',
  });
}

/** The target's request handler: `body` as OpenMetrics, gzipped when asked; `onRequest` counts scrapes. */
export function targetHandler(body, gzipped, onRequest) {
  return (req, res) => {
    onRequest();
    const gzip = (req.headers['accept-encoding'] ?? '').includes('gzip');
    res.writeHead(200, {
      'Content-Type': 'application/openmetrics-text; version=1.0.0; charset=utf-8',
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
    });
    res.end(gzip ? gzipped : body);
  };
}
