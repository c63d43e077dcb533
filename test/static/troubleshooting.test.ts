// docs/troubleshooting.md names log lines (as `"<msg>"`) and metrics (`log_sidecar_...`,
// `metrics_sidecar_...`) an operator should look for: each must exist in the sidecars' code, or the guide
// sends people after a line that is never printed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './rendered-manifests.js';

const GUIDE = readFileSync(join(REPO_ROOT, 'docs/troubleshooting.md'), 'utf8');

/** The shipped source of every package: test files and test helpers left out. */
function sourceText(): string {
  const texts: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
        texts.push(readFileSync(path, 'utf8'));
    }
  };
  for (const pkg of readdirSync(join(REPO_ROOT, 'packages'))) walk(join(REPO_ROOT, 'packages', pkg, 'src'));
  return texts.join('\n');
}

/** Every inline code span of the guide (fenced blocks left out), line breaks inside a span collapsed. */
const spans = [...GUIDE.replace(/^```[\s\S]*?^```$/gm, '').matchAll(/`([^`]+)`/g)].map((m) =>
  m[1]!.replace(/\s+/g, ' ').trim(),
);
const messages = [...new Set(spans.flatMap((s) => /^"([A-Z][^"]*\.)"$/.exec(s)?.[1] ?? []))];
const metrics = [
  ...new Set(spans.flatMap((s) => s.match(/\b(log_sidecar|metrics_sidecar)_[a-z_]*[a-z]/g) ?? [])),
].filter((name) => name !== 'log_sidecar_' && name !== 'metrics_sidecar_');

describe('docs/troubleshooting.md', () => {
  const source = sourceText();

  it('answers the operator questions', () => {
    for (const question of [
      'The Pod is 2/2 (or 3/3) Ready but no logs arrive',
      'wrong mount path',
      'The glob matches nothing',
      'Permission denied on the file',
      'The sink rejects records with a 4xx',
      'The sink is down or unreachable',
      'Clock skew',
      'The app writes to stdout instead of the file',
      'Prometheus shows no agent series',
      'Series disappear',
      'Duplicate series',
    ])
      expect(GUIDE).toContain(question);
    // Every answer has its command.
    expect(GUIDE.match(/\*\*Check:\*\*/g)?.length).toBe(10);
  });

  it('names log lines and metrics (the checks below are not vacuous)', () => {
    expect(messages.length).toBeGreaterThanOrEqual(12);
    expect(metrics.length).toBeGreaterThanOrEqual(12);
  });

  it.each(messages)('the log line "%s" is printed by a sidecar', (message) => {
    expect(source.includes(`'${message}'`), `no string literal '${message}' in packages/*/src`).toBe(true);
  });

  it.each(metrics)('the metric %s is registered by a sidecar', (name) => {
    expect(source.includes(`'${name}'`), `no metric named '${name}' in packages/*/src`).toBe(true);
  });
});
