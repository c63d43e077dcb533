// The Dockerfiles' promises, read from the files (no Docker engine here), and the sidecar images' health
// check script run for real against a server on port 0.
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

const IMAGES = {
  'log-sidecar': {
    port: '9091',
    runtime: /^gcr\.io\/distroless\/nodejs\$\{NODE_VERSION\}-debian12:nonroot$/,
  },
  'metrics-sidecar': {
    port: '9090',
    runtime: /^gcr\.io\/distroless\/nodejs\$\{NODE_VERSION\}-debian12:nonroot$/,
  },
  agent: { port: '8000', runtime: /^python:\$\{PYTHON_VERSION\}-slim-bookworm$/ },
} as const;

describe.each(Object.entries(IMAGES))('images/%s/Dockerfile', (name, expected) => {
  const stages = stagesOf(readFileSync(join(REPO_ROOT, 'images', name, 'Dockerfile'), 'utf8'));
  const runtime = stages.at(-1)!;
  const ops = (op: string) => runtime.instructions.filter((i) => i.op === op);

  it('is multi-stage, with a slim or distroless runtime stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(runtime.from).toMatch(expected.runtime);
  });

  it('runs as a numeric non-root user', () => {
    const user = ops('USER').at(-1)?.args;
    expect(user).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
  });

  it('starts the program itself in exec form, so SIGTERM reaches it', () => {
    const entrypoint = ops('ENTRYPOINT').at(-1)?.args ?? '';
    const argv = JSON.parse(entrypoint) as string[];
    if (name === 'agent') expect(argv.slice(0, 4)).toEqual(['python', '-m', 'uvicorn', 'app:app']);
    else expect(argv).toEqual(['/nodejs/bin/node', '/app/dist/main.js']);
    expect(ops('CMD').every((c) => c.args.startsWith('['))).toBe(true);
  });

  it('carries OCI labels with the version build argument', () => {
    expect(ops('ARG').some((a) => a.args.startsWith('VERSION='))).toBe(true);
    const labels = ops('LABEL')
      .map((l) => l.args)
      .join(' ');
    for (const key of ['title', 'description', 'version', 'revision', 'licenses']) {
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    }
    // The Dockerfile's own ${VERSION} substitution, spelled out literally.
    expect(labels).toContain(['org.opencontainers.image.version="$', '{VERSION}"'].join(''));
    expect(ops('EXPOSE').map((e) => e.args)).toEqual([expected.port]);
  });

  it('builds in an earlier stage and installs nothing in the runtime stage', () => {
    const runs = ops('RUN').map((r) => r.args);
    for (const run of runs) expect(run).not.toMatch(/\b(apt-get|npm|pnpm|pip|gcc|make)\b/);
    if (name !== 'agent') {
      const build = stages[0]!;
      const buildRuns = build.instructions
        .filter((i) => i.op === 'RUN')
        .map((i) => i.args)
        .join('\n');
      expect(buildRuns).toContain('npm install --global --no-fund --no-audit pnpm@10');
      expect(buildRuns).toContain('--frozen-lockfile');
      expect(buildRuns).toContain(`pnpm --filter @agent-sidecars/${name} --prod deploy --legacy /out`);
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
