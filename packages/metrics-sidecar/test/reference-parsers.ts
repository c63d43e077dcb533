import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PROMTOOL, PYTHON } from './harness.js';

const SCRIPT = fileURLToPath(new URL('./reference/openmetrics_reference.py', import.meta.url));

export interface Verdict {
  readonly ok: boolean;
  readonly error?: string;
}

/**
 * client_python's strict OpenMetrics parser in one long-lived /usr/bin/python3 process: bodies go in as
 * JSON lines, verdicts come back in order, so thousands of bodies cost one interpreter start.
 */
export class StrictOpenMetricsParser {
  readonly #child: ChildProcess;
  readonly #waiting: ((verdict: Verdict) => void)[] = [];

  constructor() {
    this.#child = spawn(PYTHON, [SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: this.#child.stdout! });
    lines.on('line', (line) => this.#waiting.shift()?.(JSON.parse(line) as Verdict));
  }

  check(body: string): Promise<Verdict> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#child.stdin!.write(`${JSON.stringify({ body })}\n`);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#child.once('exit', () => resolve());
      this.#child.stdin!.end();
    });
  }
}

/**
 * Whether `promtool check metrics` can parse a text 0.0.4 body: exit 0 (clean) or 3 (lint remarks only,
 * such as missing HELP); exit 1 is a parse error.
 */
export function promtoolParses(body: string): Verdict {
  const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: body, encoding: 'utf8' });
  const output = `${result.stdout}${result.stderr}`.trim();
  return result.status === 0 || result.status === 3 ? { ok: true } : { ok: false, error: output };
}
