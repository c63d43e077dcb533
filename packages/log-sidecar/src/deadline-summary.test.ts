import { describe, expect, it } from 'vitest';
import { deadlineSummary } from './deadline-summary.js';

describe('deadlineSummary', () => {
  it('counts one file missed by two sinks as one file and two sinks', () => {
    expect(
      deadlineSummary([
        { sink: 'loki', path: '/logs/app.log' },
        { sink: 'ndjson', path: '/logs/app.log' },
      ]),
    ).toMatch(/^1 file was not fully delivered to 2 sinks before the shutdown deadline/);
  });

  it('counts files and sinks apart', () => {
    expect(
      deadlineSummary([
        { sink: 'loki', path: '/a.log' },
        { sink: 'loki', path: '/b.log' },
      ]),
    ).toMatch(/^2 files were not fully delivered to 1 sink /);
    expect(deadlineSummary([])).toMatch(/^Records were not fully delivered before/);
  });
});
