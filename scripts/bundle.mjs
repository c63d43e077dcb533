#!/usr/bin/env node
// Bundles each sidecar into one ESM file, packages/<sidecar>/dist/main.js (+ main.js.map), from its
// TypeScript sources and every dependency but `yaml`. Run by `pnpm run build` after `tsc -b`, which
// type-checks and still emits the module tree beside it (benchmarks and scripts import single modules
// from dist/); the bundle replaces only tsc's dist/main.js, which is what the tests, the Pod runner and
// the images start.
//
// Why: a sidecar resolved and loaded ~170 module files at start; one file is ready up to 40 % sooner and idles
// 0.5-3 MiB lower (docs/benchmarks.md, "process level: wt/proc").
// `yaml` stays outside: the config loader requires it lazily, only when a config file is given, so a
// flags-only sidecar never loads it (the image copies it beside the bundle).
// The build fails if a test or testing module would be in the bundle, or if it would import anything
// but Node's built-in modules and `yaml`.
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const root = fileURLToPath(new URL('../', import.meta.url));
const SIDECARS = ['log-sidecar', 'metrics-sidecar'];
const EXTERNAL = ['yaml'];
const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

for (const sidecar of SIDECARS) {
  const pkg = `${root}packages/${sidecar}/`;
  const bundle = await rolldown({
    input: `${pkg}src/main.ts`,
    platform: 'node',
    cwd: pkg,
    external: EXTERNAL,
    // The sidecars' own tsconfig (strict, ES2022); rolldown only strips the types.
    tsconfig: `${pkg}tsconfig.json`,
    logLevel: 'warn',
    onLog(level, log) {
      throw new Error(`bundle ${sidecar}: ${level}: ${log.message}`);
    },
  });
  const { output } = await bundle.write({
    dir: `${pkg}dist`,
    entryFileNames: 'main.js',
    format: 'esm',
    // One non-Latin-1 character (an en dash in pino's source) made V8 keep the whole 0.7 MB bundle's
    // source as a two-byte string: 1.4 MiB of heap for the life of the process instead of 0.7.
    charset: 'ascii',
    // One file: the lazily imported HTTP sink is inlined, still evaluated only when it is configured.
    codeSplitting: false,
    // Stack traces map back to src/*.ts (node --enable-source-maps); the sources are not embedded.
    sourcemap: true,
    sourcemapExcludeSources: true,
  });
  await bundle.close();
  const chunks = output.filter((o) => o.type === 'chunk');
  if (chunks.length !== 1) throw new Error(`bundle ${sidecar}: ${chunks.length} chunks, expected one`);
  const [chunk] = chunks;
  const testCode = chunk.moduleIds.filter((id) => /\/(test|testing)\/|\.test\.ts$/.test(id));
  if (testCode.length > 0)
    throw new Error(`bundle ${sidecar}: test code in the bundle: ${testCode.join(', ')}`);
  const imports = [...chunk.imports, ...chunk.dynamicImports].filter(
    (id) => !builtins.has(id) && !EXTERNAL.includes(id) && id !== chunk.fileName,
  );
  if (imports.length > 0)
    throw new Error(`bundle ${sidecar}: imports outside the bundle: ${imports.join(', ')}`);
  console.error(`bundle: packages/${sidecar}/dist/main.js (${chunk.moduleIds.length} modules)`);
}
