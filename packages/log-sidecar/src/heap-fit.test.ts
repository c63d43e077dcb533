import { ConfigError } from '@agent-sidecars/shared';
import { describe, expect, it } from 'vitest';
import { checkBufferFitsHeap } from './heap-fit.js';

const MiB = 1024 * 1024;

describe('checkBufferFitsHeap', () => {
  it('accepts a buffer of up to half the heap limit', () => {
    expect(() => checkBufferFitsHeap(16 * MiB, 108 * MiB, '--buffer-max-bytes', '16MiB')).not.toThrow();
    expect(() => checkBufferFitsHeap(54 * MiB, 108 * MiB, '--buffer-max-bytes', '54MiB')).not.toThrow();
  });

  it('refuses a buffer the heap cannot hold, naming the option, the limit and what is allowed', () => {
    let thrown: unknown;
    try {
      checkBufferFitsHeap(54 * MiB + 1, 108 * MiB, 'LOG_SIDECAR_BUFFER_MAX_BYTES', '55MB');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const message = (thrown as Error).message;
    expect(message).toMatch(/^LOG_SIDECAR_BUFFER_MAX_BYTES: "55MB" is more than half/);
    expect(message).toContain('V8 heap limit (108 MiB)');
    expect(message).toContain('give at most 54MiB');
    expect(message).toContain('--max-old-space-size');
  });
});
