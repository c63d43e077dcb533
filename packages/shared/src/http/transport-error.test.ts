import { describe, expect, it } from 'vitest';
import { describeTransportError } from './transport-error.js';

describe('describeTransportError', () => {
  it('names the code and message of the error and of its cause once each', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const error = Object.assign(new TypeError('fetch failed'), { cause });
    expect(describeTransportError(error)).toBe(
      'fetch failed: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9',
    );
    expect(describeTransportError(cause)).toBe('ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9');
  });

  it('describes a thrown non-error by its string', () => {
    expect(describeTransportError('socket hang up')).toBe('socket hang up');
  });
});
