// `pnpm demo` (after setup and build): the local Pod demo. The runner reads this process's argv, so
// `pnpm demo --keep-running` and `pnpm demo --help` reach it unchanged; running it in this process
// (rather than a child) lets a Ctrl-C reach the runner alone, which then stops the Pod in order.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const runner = new URL('../packages/pod-runner/dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(runner))) {
  console.error('demo: packages/pod-runner/dist/main.js is missing; build first with `pnpm run build`');
  process.exit(1);
}
await import(runner.href);
