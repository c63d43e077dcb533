import { appendFileSync, renameSync, rmSync, truncateSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom as random, waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type LogSidecarProcess, logSidecars, tempDir } from './log-sidecar-process.js';

// A model test of the file source, in the spirit of Vector's
// lib/file-source/src/file_watcher/tests/experiment.rs: seeded random sequences of write, rotate
// (rename), truncate, delete and restart (kill -9 of the built binary, then a new one) are applied to a
// real directory and to a model of what must be delivered. At the end, every line the model says must
// arrive has arrived at least once, every record is exactly one written line (no fragments), and no line
// arrives before an earlier line of the same file that could still be read.

/** Three seeds keep the suite short; `MODEL_SEEDS=1-200` explores more (seeds are reproducible). */
const SEEDS = seedsFrom(process.env.MODEL_SEEDS ?? '1-3');
const OPS = 30;
const NAMES = ['a.log', 'b.log'];

function seedsFrom(spec: string): number[] {
  const [from, to = from] = spec.split('-').map(Number) as [number, number?];
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** One file's content from creation (or truncation) on: its lines are `i<instance> s<seq> ...`. */
interface Instance {
  readonly id: number;
  path: string;
  seq: number;
  /** False once the bytes are gone (deleted or truncated): lines not received by then may never be. */
  readable: boolean;
}

interface Line {
  readonly instance: number;
  readonly seq: number;
  /** Must arrive: written, and its file was never truncated or deleted before it arrived. */
  must: boolean;
}

class Model {
  readonly lines = new Map<string, Line>();
  readonly live = new Map<string, Instance>();
  readonly rotated: Instance[] = [];
  readonly ops: string[] = [];
  #instances = 0;
  #rotations = 0;

  constructor(
    readonly dir: string,
    readonly received: () => ReadonlySet<string>,
  ) {}

  text(instance: number, seq: number): string {
    return `i${instance} s${seq} ${'x'.repeat(24 + ((instance * 7 + seq) % 40))}`;
  }

  async write(name: string, count: number, split: boolean): Promise<void> {
    let file = this.live.get(name);
    if (file === undefined) {
      file = { id: ++this.#instances, path: join(this.dir, name), seq: 0, readable: true };
      this.live.set(name, file);
    }
    this.ops.push(`write ${name} ${count}${split ? ' split' : ''}`);
    let text = '';
    for (let n = 0; n < count; n++) {
      const line = this.text(file.id, file.seq++);
      this.lines.set(line, { instance: file.id, seq: file.seq - 1, must: true });
      text += `${line}\n`;
    }
    if (!split) {
      appendFileSync(file.path, text);
      return;
    }
    // The last line in two writes, as a writer flushing mid-line does: never shipped as two records.
    const cut = text.length - 10;
    appendFileSync(file.path, text.slice(0, cut));
    await new Promise((resolve) => setTimeout(resolve, 30));
    appendFileSync(file.path, text.slice(cut));
  }

  rotate(name: string): void {
    const file = this.live.get(name);
    if (file === undefined) return;
    this.ops.push(`rotate ${name}`);
    // A new suffix each time (`.N`, as a rotated name), so no rotation overwrites an older file.
    const to = `${file.path}.${++this.#rotations}`;
    renameSync(file.path, to);
    file.path = to;
    this.live.delete(name);
    this.rotated.push(file);
  }

  truncate(name: string): void {
    const file = this.live.get(name);
    if (file === undefined) return;
    this.ops.push(`truncate ${name}`);
    this.#gone(file);
    truncateSync(file.path, 0);
    // Same inode, new content.
    this.live.set(name, { id: ++this.#instances, path: file.path, seq: 0, readable: true });
  }

  delete(pick: number): void {
    const files = [...this.live.values(), ...this.rotated];
    const file = files[Math.floor(pick * files.length)];
    if (file === undefined) return;
    this.ops.push(`delete ${file.path.slice(this.dir.length + 1)}`);
    this.#gone(file);
    unlinkSync(file.path);
    for (const [name, live] of this.live) if (live === file) this.live.delete(name);
    this.rotated.splice(this.rotated.indexOf(file), 1);
  }

  /** Lines of `file` not received by now may never be: the bytes are gone. */
  #gone(file: Instance): void {
    file.readable = false;
    const received = this.received();
    for (const [text, line] of this.lines) {
      if (line.instance === file.id && !received.has(text)) line.must = false;
    }
  }

  mustArrive(): string[] {
    return [...this.lines].filter(([, line]) => line.must).map(([text]) => text);
  }
}
const processes = logSidecars();
afterEach(() => processes.cleanup());

async function experiment(seed: number): Promise<void> {
  const dir = tempDir('log-sidecar-model-');
  const next = random(seed);
  const runs: LogSidecarProcess[] = [];
  const received = new Set<string>();
  const receivedNow = () => {
    for (const run of runs) for (const record of run.records) received.add(record.message ?? '');
    return received;
  };
  const model = new Model(dir, receivedNow);
  const args = [
    '--path',
    join(dir, '*.log'),
    '--format',
    'raw',
    '--scan-interval',
    '100ms',
    '--read-interval',
    '50ms',
    '--batch-timeout',
    '20ms',
    '--checkpoint-dir',
    join(dir, '.ckpt'),
  ];
  runs.push(processes.start(args));
  await runs[0]!.ready();
  try {
    for (let op = 0; op < OPS; op++) {
      const roll = next();
      const name = NAMES[Math.floor(next() * NAMES.length)]!;
      if (roll < 0.5) await model.write(name, 1 + Math.floor(next() * 40), next() < 0.2);
      else if (roll < 0.7) model.rotate(name);
      else if (roll < 0.8) model.truncate(name);
      else if (roll < 0.88) model.delete(next());
      else {
        model.ops.push('restart');
        const run = runs[runs.length - 1]!;
        run.signal('SIGKILL');
        await run.exited;
        // The next operations may happen while the new process is still starting, as in a Pod.
        runs.push(processes.start(args));
      }
      await new Promise((resolve) => setTimeout(resolve, Math.floor(next() * 150)));
    }
    const last = runs[runs.length - 1]!;
    await last.ready();
    const must = model.mustArrive();
    await waitFor(
      `every line the model says must arrive (seed ${seed}: ${model.ops.join(', ')})`,
      () => {
        const got = receivedNow();
        return must.every((text) => got.has(text));
      },
      { timeoutMs: 20_000 },
    ).catch((error: Error) => {
      const got = receivedNow();
      const missing = must.filter((text) => !got.has(text));
      throw new Error(`${error.message}\nmissing ${missing.length}: ${missing.slice(0, 5).join(' | ')}`);
    });
    expect(await last.stop()).toBe(0);

    // No fragments: every record is one whole line that was written.
    const all = runs.flatMap((run) => run.records.map((record) => record.message ?? ''));
    const fragments = all.filter((text) => !model.lines.has(text));
    expect(fragments, `seed ${seed}: ${model.ops.join(', ')}`).toEqual([]);

    // In order per file: a line arrives for the first time only after every earlier line of its file
    // that the model still expects (runs in the order they ran; a restart may repeat lines).
    const seen = new Set<string>();
    for (const text of all) {
      if (seen.has(text)) continue;
      const line = model.lines.get(text)!;
      for (let seq = 0; seq < line.seq; seq++) {
        const earlier = model.text(line.instance, seq);
        if (model.lines.get(earlier)?.must && !seen.has(earlier)) {
          throw new Error(`seed ${seed}: "${text}" arrived before "${earlier}" (${model.ops.join(', ')})`);
        }
      }
      seen.add(text);
    }
  } finally {
    for (const run of runs) if (run.exitCode === undefined) run.signal('SIGKILL');
    await Promise.all(runs.map((run) => run.exited));
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('file source model (built binary)', () => {
  // Found by this model (MODEL_SEEDS=4 and 35), fixed for issue 11: the truncation check ran only after a
  // scan, so a read tick in between read the rewritten file at the old offset and shipped the middle of a
  // line as a record. Now every read compares the bytes before its offset first. Deterministic here: no
  // scan comes after the first one.
  it('ships no fragment when a file is truncated and rewritten past the read offset between two scans', async () => {
    const dir = tempDir('log-sidecar-model-');
    const path = join(dir, 'app.log');
    const line = (instance: number, seq: number) => `i${instance} s${seq} ${'x'.repeat(40 + instance * 3)}`;
    const block = (instance: number, count: number) =>
      Array.from({ length: count }, (_, seq) => `${line(instance, seq)}\n`).join('');
    appendFileSync(path, block(1, 10));
    const sidecar = processes.start([
      '--path',
      join(dir, '*.log'),
      '--format',
      'raw',
      '--scan-interval',
      '60s',
      '--read-interval',
      '50ms',
      '--checkpoint-dir',
      join(dir, '.ckpt'),
    ]);
    try {
      await sidecar.ready();
      await waitFor('the first file', () => sidecar.records.length === 10);
      truncateSync(path, 0);
      appendFileSync(path, block(2, 30));
      await waitFor('lines of the rewritten file', () => sidecar.records.length > 10);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const written = new Set([...block(1, 10).split('\n'), ...block(2, 30).split('\n')]);
      expect(sidecar.messages().filter((text) => !written.has(text))).toEqual([]);
    } finally {
      await sidecar.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const seed of SEEDS) {
    it(
      `delivers what the model says after ${OPS} random operations, seed ${seed}`,
      () => experiment(seed),
      60_000,
    );
  }
});
