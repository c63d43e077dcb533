// The Dockerfiles' promises, read from the files (test/containers/ builds and runs them), and the sidecar
// images' health check script run for real against a server on port 0.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, HttpReceiver } from '@agent-sidecars/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './rendered-manifests.js';

interface Stage {
  from: string;
  name?: string;
  instructions: { op: string; args: string }[];
}

/** Splits a Dockerfile into build stages of instructions, joining continued lines and dropping comments. */
function stagesOf(text: string): Stage[] {
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of logical) {
    const [op = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op.toUpperCase() === 'FROM') {
      const [from = '', as, name] = args.split(/\s+/);
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return stages;
}

/** Expands `${NAME}` / `$NAME` with the build arguments (the Dockerfile's own defaults first). */
function expand(text: string, args: Record<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a: string, b: string) => args[a ?? b] ?? whole);
}

interface Resolved {
  /** The image the final stage builds on, after following stage names. */
  base: string;
  /** The instructions of every stage from that base to the final one, in order. */
  instructions: { op: string; args: string }[];
  stages: Stage[];
}

/** What `docker build` with these build arguments makes: the chain of stages the final one stands on. */
function resolve(file: string, buildArgs: Record<string, string>): Resolved {
  const text = readFileSync(join(REPO_ROOT, file), 'utf8');
  const globals: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (/^FROM\s/i.test(line)) break;
    const arg = /^ARG\s+(\w+)=(\S+)/.exec(line);
    if (arg) globals[arg[1]!] = arg[2]!;
  }
  const args = { ...globals, ...buildArgs };
  const stages = stagesOf(text);
  const chain: Stage[] = [];
  let stage: Stage | undefined = stages.at(-1);
  while (stage) {
    chain.unshift(stage);
    const from = expand(stage.from, args);
    stage = stages.find((s) => s.name === from);
  }
  return {
    base: expand(chain[0]!.from, args),
    instructions: chain.flatMap((s) => s.instructions.map((i) => ({ op: i.op, args: expand(i.args, args) }))),
    stages,
  };
}

const SIDECAR_FILE = 'images/sidecar/Dockerfile';
const IMAGES = {
  'log-sidecar': { file: SIDECAR_FILE, args: { SIDECAR: 'log-sidecar' }, port: '9091' },
  'metrics-sidecar': { file: SIDECAR_FILE, args: { SIDECAR: 'metrics-sidecar' }, port: '9090' },
  agent: { file: 'images/agent/Dockerfile', args: {}, port: '8000' },
} as const;

describe('the Dockerfiles', () => {
  it('have no `# syntax=` line: the built-in frontend is enough and needs no registry', () => {
    for (const file of [SIDECAR_FILE, 'images/agent/Dockerfile'])
      expect(readFileSync(join(REPO_ROOT, file), 'utf8')).not.toMatch(/^#\s*syntax=/m);
  });

  it('write the Node LTS line once, as the build argument NODE_VERSION of the sidecar file', () => {
    const text = readFileSync(join(REPO_ROOT, SIDECAR_FILE), 'utf8');
    expect(text.match(/^ARG NODE_VERSION=\d+$/gm)).toHaveLength(1);
    expect(text.match(/node:\$\{NODE_VERSION\}-bookworm-slim/g)).toHaveLength(1);
    expect(text.match(/distroless\/nodejs\$\{NODE_VERSION\}-debian12:nonroot/g)).toHaveLength(1);
  });

  it('hand the CA bundle to npm and pip only as an optional BuildKit secret', () => {
    const sidecar = readFileSync(join(REPO_ROOT, SIDECAR_FILE), 'utf8');
    const agent = readFileSync(join(REPO_ROOT, 'images/agent/Dockerfile'), 'utf8');
    for (const [text, variable] of [
      [sidecar, 'NODE_EXTRA_CA_CERTS'],
      [agent, 'PIP_CERT'],
    ] as const) {
      expect(text).toContain('--mount=type=secret,id=ca');
      expect(text).toContain(`if [ -f /run/secrets/ca ]; then export ${variable}=/run/secrets/ca; fi`);
      expect(text).not.toMatch(/required=true/);
    }
  });
});

describe.each(Object.entries(IMAGES))('the %s image', (name, image) => {
  const { base, instructions, stages } = resolve(image.file, image.args);
  const ops = (op: string) => instructions.filter((i) => i.op === op);

  it('is multi-stage, with a slim or distroless runtime stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(base).toMatch(
      name === 'agent' ? /^debian:bookworm-slim$/ : /^gcr\.io\/distroless\/nodejs\d+-debian12:nonroot$/,
    );
  });

  it('runs as a numeric non-root user', () => {
    const user = ops('USER').at(-1)?.args;
    expect(user).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
  });

  it('starts the program itself in exec form, so SIGTERM reaches it', () => {
    const entrypoint = ops('ENTRYPOINT').at(-1)?.args ?? '';
    const argv = JSON.parse(entrypoint) as string[];
    if (name === 'agent') expect(argv.slice(0, 4)).toEqual(['python', '-m', 'uvicorn', 'app:app']);
    // The bundle; the metrics-sidecar's own stage caps V8 at Maglev, a flag NODE_OPTIONS refuses (less
    // memory and CPU a scrape; images/sidecar/Dockerfile says what was measured), the log-sidecar none.
    else if (name === 'metrics-sidecar')
      expect(argv).toEqual(['/nodejs/bin/node', '--max-opt=2', '/app/dist/main.js']);
    else expect(argv).toEqual(['/nodejs/bin/node', '/app/dist/main.js']);
    expect(ops('CMD').every((c) => c.args.startsWith('['))).toBe(true);
  });

  it('carries OCI labels with the version build argument', () => {
    const raw = stagesOf(readFileSync(join(REPO_ROOT, image.file), 'utf8'))
      .flatMap((s) => s.instructions)
      .filter((i) => i.op === 'ARG' || i.op === 'LABEL');
    expect(raw.some((a) => a.op === 'ARG' && a.args.startsWith('VERSION='))).toBe(true);
    const labels = ops('LABEL')
      .map((l) => l.args)
      .join(' ');
    for (const key of ['title', 'description', 'version', 'revision', 'licenses']) {
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    }
    expect(labels).toContain(`org.opencontainers.image.title="${name}"`);
    // The Dockerfile's own ${VERSION} substitution, spelled out literally.
    expect(
      raw.some((l) => l.args.includes(['org.opencontainers.image.version="$', '{VERSION}"'].join(''))),
    ).toBe(true);
    expect(ops('EXPOSE').map((e) => e.args)).toEqual([image.port]);
  });

  it('builds in an earlier stage and installs nothing on top of its runtime base', () => {
    // The agent's Debian variant installs its Python packages with apt in the stage it stands on, and
    // removes apt's lists there; what it adds itself must install nothing.
    const own = name === 'agent' ? stages.at(-1)!.instructions : instructions;
    const runs = own.filter((i) => i.op === 'RUN').map((r) => r.args);
    if (name === 'agent')
      expect(ops('RUN').some((r) => r.args.includes('rm -rf /var/lib/apt/lists/*'))).toBe(true);
    for (const run of runs) expect(run).not.toMatch(/\b(apt-get|npm|pnpm|pip|gcc|make)\b/);
    if (name !== 'agent') {
      const build = stages.find((s) => s.name === 'build')!;
      const buildRuns = build.instructions
        .filter((i) => i.op === 'RUN')
        .map((i) => i.args)
        .join('\n');
      expect(buildRuns).toContain('npm install --global --no-fund --no-audit --no-update-notifier pnpm@10');
      expect(buildRuns).toContain('pnpm fetch --frozen-lockfile');
      expect(buildRuns).toContain('pnpm install --offline --frozen-lockfile');
      // The app is the bundle `pnpm run build` made, its map, its package.json and `yaml` (required lazily
      // for a config file): no node_modules tree of the workspace.
      expect(buildRuns).toContain(
        'cp "packages/$SIDECAR/dist/main.js" "packages/$SIDECAR/dist/main.js.map" /rootfs/app/dist/',
      );
      expect(buildRuns).toContain('cp -RL packages/shared/node_modules/yaml /rootfs/app/node_modules/yaml');
      expect(buildRuns).not.toMatch(/\bdeploy\b/);
      expect(buildRuns).not.toContain('--legacy');
    }
  });
});

describe('images/healthcheck.mjs', () => {
  const server = new HttpReceiver((req, res) => res.writeHead(req.url === '/readyz' ? 200 : 503).end());
  let base: string;

  beforeAll(async () => {
    base = (await server.start()).href.replace(/\/$/, '');
  });
  afterAll(() => server.close());

  const run = (...args: string[]) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(REPO_ROOT, 'images/healthcheck.mjs'), ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on('exit', (code) => resolve({ code, stderr }));
    });

  it('exits 0 on a 2xx answer', async () => {
    expect((await run(`${base}/readyz`)).code).toBe(0);
  });

  it('exits 1 on a non-2xx answer and says which', async () => {
    const result = await run(`${base}/livez`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('answered 503');
  });

  it('exits 1 when nothing listens, and 2 without a URL', async () => {
    const port = await freePort();
    const refused = await run(`http://127.0.0.1:${port}/readyz`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('did not answer');
    expect((await run()).code).toBe(2);
  });
});
