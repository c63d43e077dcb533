// Health check for the distroless sidecar images, which have no shell, curl or wget:
//   /nodejs/bin/node /app/healthcheck.mjs http://127.0.0.1:9091/readyz
// Exits 0 on a 2xx answer within 2 s, 1 otherwise (docker compose `healthcheck`).
const url = process.argv[2];
if (!url) {
  console.error('usage: healthcheck.mjs URL (e.g. http://127.0.0.1:9091/readyz)');
  process.exit(2);
}
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  if (!res.ok) console.error(`${url} answered ${res.status}`);
  process.exit(res.ok ? 0 : 1);
} catch (error) {
  console.error(`${url} did not answer: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
