import { describe, expect, it } from 'vitest';
import { FINGERPRINT_MAX_BYTES, fileIdentity, fingerprintLength, sameContentStart } from './file-identity.js';

describe('file identity', () => {
  it('fingerprints the first line, so the key is stable while the file grows', () => {
    const a = Buffer.from('first line\nsecond');
    const b = Buffer.from('first line\nsecond line\nthird\n');
    const la = fingerprintLength(a, a.length, false)!;
    expect(la).toBe(11);
    expect(fileIdentity(1, 2, a, la).key).toBe(
      fileIdentity(1, 2, b, fingerprintLength(b, b.length, false)!).key,
    );
  });

  it('waits for the first line unless the file is final', () => {
    const head = Buffer.from('no newline yet');
    expect(fingerprintLength(head, head.length, false)).toBeUndefined();
    expect(fingerprintLength(head, head.length, true)).toBe(head.length);
    expect(fingerprintLength(Buffer.alloc(0), 0, true)).toBeUndefined();
  });

  it('caps the fingerprint at its maximum for a long first line', () => {
    const head = Buffer.alloc(FINGERPRINT_MAX_BYTES, 0x61);
    expect(fingerprintLength(head, head.length, false)).toBe(FINGERPRINT_MAX_BYTES);
  });

  it('tells a reused inode with other content apart', () => {
    const one = fileIdentity(1, 2, Buffer.from('a\n'), 2);
    const two = fileIdentity(1, 2, Buffer.from('b\n'), 2);
    expect(one.key).not.toBe(two.key);
    expect(sameContentStart(one, Buffer.from('a\nmore'), 6)).toBe(true);
    expect(sameContentStart(one, Buffer.from('b\n'), 2)).toBe(false);
    expect(sameContentStart(one, Buffer.from('a'), 1)).toBe(false);
  });
});
