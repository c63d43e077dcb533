import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { pread } from './file-handle.js';

/** Bytes at the start of a file that its fingerprint covers (less when the first line is shorter). */
export const FINGERPRINT_MAX_BYTES = 256;

/** Bytes just before a checkpointed offset that its content marker covers (fewer near the start). */
export const MARKER_MAX_BYTES = 64;

/**
 * What makes a file the same file: device and inode, plus a fingerprint of its first line (at most
 * FINGERPRINT_MAX_BYTES): the `base` key. The first line of an append-only file never changes, so it is
 * stable while the file grows and across restarts. A banner an agent writes at every start makes the
 * first line of a rewritten file (truncated, or a new file on a reused inode) the same as the old one's,
 * so the base alone cannot tell them apart: each checkpoint also keeps a content marker, a hash of the
 * bytes just before the checkpointed offset (Fluent Bit in_tail's offset marker), checked before a file
 * is resumed; and a tailer compares the bytes before its read offset with what it read there before every
 * read and at every truncation check. A rewrite found that way gets a new `key` (the base plus a
 * generation), so its records never share ids or checkpoints with the old content's.
 */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
  /** Hex digest of the fingerprinted bytes. */
  readonly fingerprint: string;
  /** How many bytes the fingerprint covers. */
  readonly fingerprintBytes: number;
  /** `dev-ino-fingerprint`. */
  readonly base: string;
  /** The base, or the base plus `~generation` for content rewritten under the same base: the key of
   *  checkpoints and the prefix of record ids. */
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
  const base = `${dev}-${ino}-${fingerprint}`;
  return { dev, ino, fingerprint, fingerprintBytes, base, key: base };
}

/** True when `head` (the file's current first bytes) still matches the identity's fingerprint. */
export function sameContentStart(identity: FileIdentity, head: Buffer, length: number): boolean {
  if (length < identity.fingerprintBytes) return false;
  return fileIdentity(identity.dev, identity.ino, head, identity.fingerprintBytes).base === identity.base;
}

/** A hash of the bytes `[offset - bytes, offset)` of a file. */
export interface ContentMarker {
  readonly offset: number;
  readonly bytes: number;
  readonly hash: string;
}

function markerHash(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

/** The marker of the bytes just before `offset`, read with a synchronous pread (64 bytes at most). */
export function readMarkerSync(fd: number, offset: number): ContentMarker | undefined {
  const bytes = Math.min(offset, MARKER_MAX_BYTES);
  const buffer = Buffer.allocUnsafe(bytes);
  const read = bytes === 0 ? 0 : readSync(fd, buffer, 0, bytes, offset - bytes);
  return read === bytes ? { offset, bytes, hash: markerHash(buffer) } : undefined;
}

/** True when the open file `fd` still holds, before `marker.offset`, the bytes the marker was taken of. */
export async function markerMatches(fd: number, marker: ContentMarker): Promise<boolean> {
  return (await markedBytes(fd, marker)) !== undefined;
}

/** The bytes before `marker.offset` if they are still the ones the marker was taken of, else undefined. */
export async function markedBytes(fd: number, marker: ContentMarker): Promise<Buffer | undefined> {
  const buffer = Buffer.allocUnsafe(marker.bytes);
  if (marker.bytes === 0) return buffer;
  const read = await pread(fd, buffer, marker.bytes, marker.offset - marker.bytes);
  return read === marker.bytes && markerHash(buffer) === marker.hash ? buffer : undefined;
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
