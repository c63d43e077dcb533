// Writes schemas/<sidecar>.config.schema.json from the built option tables (the ones the loader reads), so
// the schema an editor or CI validates against can never drift from what the sidecar accepts.
// `node scripts/config-schemas.mjs` writes them; `--check` exits 1 when a committed one is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const { logSidecarConfigSchema } = await import(new URL('packages/log-sidecar/dist/config.js', root).href);
const { metricsSidecarConfigSchema } = await import(
  new URL('packages/metrics-sidecar/dist/config.js', root).href
);
const schemas = {
  'schemas/log-sidecar.config.schema.json': logSidecarConfigSchema(),
  'schemas/metrics-sidecar.config.schema.json': metricsSidecarConfigSchema(),
};
const check = process.argv.includes('--check');
let stale = 0;
for (const [path, schema] of Object.entries(schemas)) {
  const file = fileURLToPath(new URL(path, root));
  const text = `${JSON.stringify(schema, null, 2)}\n`;
  if (!check) {
    writeFileSync(file, text);
    continue;
  }
  let committed = '';
  try {
    committed = readFileSync(file, 'utf8');
  } catch {}
  if (committed !== text) {
    stale++;
    console.error(`${path} is out of date; run: pnpm run schemas`);
  }
}
process.exit(stale === 0 ? 0 : 1);
