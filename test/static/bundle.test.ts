// What `pnpm run build` leaves as each sidecar's dist/main.js, the file the tests, the Pod runner and the
// images start: one bundled ESM file (scripts/bundle.mjs), with a source map back to src/*.ts and no test
// code. Fails when dist/main.js is tsc's module instead (a `tsc -b` after the last `pnpm run build`).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules, SourceMap } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './rendered-manifests.js';

const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
/** Every module specifier a file imports statically or dynamically (comment lines left out). */
const specifiers = (code: string) =>
  code
    .split('\n')
    .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line))
    .flatMap((line) =>
      [
        ...line.matchAll(
          /^(?:import|export)\b[^'"]*?\bfrom\s+["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g,
        ),
      ].map((m) => m[1] ?? m[2]!),
    );

describe.each(['log-sidecar', 'metrics-sidecar'])('packages/%s/dist/main.js', (sidecar) => {
  const file = join(REPO_ROOT, 'packages', sidecar, 'dist/main.js');
  const code = readFileSync(file, 'utf8');
  const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] };

  it('is one bundle: it imports only Node built-ins, nothing of its own package or node_modules', () => {
    const imports = specifiers(code);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((s) => !builtins.has(s))).toEqual([]);
    // `yaml` is required lazily, only for a config file (the image copies it beside the bundle).
    expect(code).toMatch(/createRequire\(import\.meta\.url\)\("yaml"\)/);
  });

  it('holds the sidecar, shared and its dependencies, and no test code', () => {
    const sources = map.sources.map((s) => s.replace(/\\/g, '/'));
    expect(sources.some((s) => s.endsWith('src/main.ts'))).toBe(true);
    expect(sources.some((s) => s.includes('shared/'))).toBe(true);
    expect(sources.some((s) => s.includes('node_modules/.pnpm/prom-client@'))).toBe(true);
    expect(sources.filter((s) => /\/(test|testing)\/|\.test\.ts$/.test(s))).toEqual([]);
  });

  it('maps its lines back to the TypeScript sources, for stack traces under --enable-source-maps', () => {
    const sourceMap = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
    const lines = code.split('\n');
    // main.ts reads its version from ../package.json, relative to the file node runs.
    const line = lines.findIndex((l) => l.includes('new URL("../package.json", import.meta.url)'));
    expect(line).toBeGreaterThan(0);
    const entry = sourceMap.findEntry(line, lines[line]!.indexOf('new URL'));
    const source = 'originalSource' in entry ? entry.originalSource : '';
    expect(source).toMatch(/(^|\/)src\/main\.ts$/);
    // Relative to the bundle, as node resolves it.
    expect(existsSync(join(REPO_ROOT, 'packages', sidecar, 'dist', source))).toBe(true);
    expect(join(REPO_ROOT, 'packages', sidecar, 'dist', source)).toBe(
      join(REPO_ROOT, 'packages', sidecar, 'src/main.ts'),
    );
  });

  it('starts: --version prints the package version', () => {
    const { version } = JSON.parse(
      readFileSync(join(REPO_ROOT, 'packages', sidecar, 'package.json'), 'utf8'),
    ) as {
      version: string;
    };
    const run = spawnSync(process.execPath, ['--enable-source-maps', file, '--version'], {
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(version);
    expect(run.status).toBe(0);
  });
});
