import { createHash } from 'node:crypto';
import { pread } from './file-handle.js';

/** Bytes at the start of a file that its fingerprint covers (less when the first line is shorter). */
export const FINGERPRINT_MAX_BYTES = 256;

/**
 * What makes a file the same file: device and inode, plus a fingerprint of its first line (at most
 * FINGERPRINT_MAX_BYTES), so a reused inode or a file truncated and written again gets a new identity
 * and is read from its start. The first line of an append-only file never changes, so the key is stable
 * while the file grows and across restarts.
 */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
  /** Hex digest of the fingerprinted bytes. */
  readonly fingerprint: string;
  /** How many bytes the fingerprint covers. */
  readonly fingerprintBytes: number;
  /** `dev-ino-fingerprint`: the key of checkpoints and the prefix of record ids. */
  readonly key: string;
}

/** The length of the prefix a fingerprint covers, or undefined while the first line is still unfinished. */
export function fingerprintLength(head: Buffer, length: number, final: boolean): number | undefined {
  const limit = Math.min(length, FINGERPRINT_MAX_BYTES);
  const newline = head.subarray(0, limit).indexOf(10);
  if (newline >= 0) return newline + 1;
  if (limit >= FINGERPRINT_MAX_BYTES) return FINGERPRINT_MAX_BYTES;
  // A file that will never grow again (shutdown) is identified by what it has, if anything.
  return final && length > 0 ? length : undefined;
}

export function fileIdentity(dev: number, ino: number, head: Buffer, fingerprintBytes: number): FileIdentity {
  const fingerprint = createHash('sha256')
    .update(head.subarray(0, fingerprintBytes))
    .digest('hex')
    .slice(0, 16);
  return { dev, ino, fingerprint, fingerprintBytes, key: `${dev}-${ino}-${fingerprint}` };
}

/** True when `head` (the file's current first bytes) still matches the identity's fingerprint. */
export function sameContentStart(identity: FileIdentity, head: Buffer, length: number): boolean {
  if (length < identity.fingerprintBytes) return false;
  return fileIdentity(identity.dev, identity.ino, head, identity.fingerprintBytes).key === identity.key;
}

/**
 * Reads the first bytes of the open file `fd` and fingerprints them: the one way a file's identity is
 * taken, whether the tailer identifies the file it reads or a restart looks for a rotated file.
 * Undefined while the first line is unfinished (unless `final`: the file will not grow again).
 */
export async function readIdentity(
  fd: number,
  dev: number,
  ino: number,
  final: boolean,
): Promise<FileIdentity | undefined> {
  const head = Buffer.allocUnsafe(FINGERPRINT_MAX_BYTES);
  const bytes = await pread(fd, head, FINGERPRINT_MAX_BYTES, 0);
  const length = fingerprintLength(head, bytes, final);
  return length === undefined ? undefined : fileIdentity(dev, ino, head, length);
}
