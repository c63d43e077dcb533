// `npm run demo:containers` (after setup and build): the Pod of k8s/ in real containers. As root on
// Linux it makes its own private engine (scripts/container-env.sh: installs docker.io where needed on
// Debian, starts dockerd, base images or their stand-ins, builds the images) and stops it at the end;
// elsewhere it uses the engine `docker` reaches (DOCKER_HOST or the default context), building the
// images there. A first Ctrl-C terminates the Pod in the kubelet's order, a second one exits at once.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = new URL('../packages/pod-runner/dist/index.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('demo:containers: packages/pod-runner/dist is missing; build first with `pnpm run build`');
  process.exit(1);
}
const { OutputFormatter, dockerEngine, runContainerDemo } = await import(entry.href);

const privateEngine = process.platform === 'linux' && process.getuid?.() === 0;
const dir = privateEngine ? mkdtempSync('/tmp/asc-demo-') : undefined;
const env = privateEngine
  ? { ...process.env, AGENT_SIDECARS_ENGINE_DIR: dir }
  : { ...process.env, AGENT_SIDECARS_ENGINE: 'existing' };
const script = (step) =>
  spawnSync('sh', [`${root}scripts/container-env.sh`, step], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });

let code = 1;
try {
  if (script('up').status !== 0) {
    console.error('demo:containers: the container environment could not be made (see above)');
  } else {
    const stop = new AbortController();
    let signals = 0;
    for (const signal of ['SIGINT', 'SIGTERM']) {
      process.on(signal, () => {
        signals += 1;
        if (signals > 1) process.exit(130);
        stop.abort(signal);
      });
    }
    const dockerHost = privateEngine ? `unix://${dir}/docker.sock` : process.env.DOCKER_HOST;
    code = await runContainerDemo({
      print: (text) => process.stdout.write(`${text}\n`),
      format: new OutputFormatter({ color: process.stdout.isTTY === true && !process.env.NO_COLOR }),
      engine: dockerEngine({ ...process.env, ...(dockerHost ? { DOCKER_HOST: dockerHost } : {}) }),
      stop: stop.signal,
    });
  }
} finally {
  if (privateEngine) {
    script('stop');
    rmSync(dir, { recursive: true, force: true });
  }
}
process.exit(code);
