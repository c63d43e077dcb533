import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseExposition } from '../scrape/exposition-parser.js';
import { ExpositionCache } from './exposition-cache.js';

describe('ExpositionCache', () => {
  it('builds and renders once per state and format, however many requests', async () => {
    let builds = 0;
    const cache = new ExpositionCache({
      build: async () => {
        builds++;
        return parseExposition(`a ${builds}\n`, 'text').families;
      },
    });
    const [first, second] = await Promise.all([cache.body('text', false), cache.body('text', false)]);
    expect(first).toBe(second);
    expect(first.toString()).toBe('# TYPE a untyped\na 1\n');
    expect(cache.ready('text', false)).toBe(first);
    expect((await cache.body('openmetrics', false)).toString()).toBe('# TYPE a unknown\na 1\n# EOF\n');
    expect(gunzipSync(await cache.body('text', true))).toEqual(first);
    expect(builds).toBe(1);

    cache.invalidate();
    expect(cache.ready('text', false)).toBeUndefined();
    expect((await cache.body('text', false)).toString()).toBe('# TYPE a untyped\na 2\n');
    expect(builds).toBe(2);
  });

  it('tries again after a failed build', async () => {
    let fail = true;
    const cache = new ExpositionCache({
      build: async () => {
        if (fail) throw new Error('registry broke');
        return [];
      },
    });
    await expect(cache.body('text', false)).rejects.toThrow('registry broke');
    fail = false;
    expect((await cache.body('openmetrics', false)).toString()).toBe('# EOF\n');
  });
});
