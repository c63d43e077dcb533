import { readFile, stat } from 'node:fs/promises';

/** bearer: `Authorization: Bearer <file>`; basic: `Basic base64(<file>)`; header: any header, the file verbatim. */
export type CredentialKind = 'bearer' | 'basic' | 'header';

export type CredentialResult =
  | { readonly ok: true; readonly authorization: string; readonly secret: string }
  | { readonly ok: false; readonly reason: string };

const WHAT: Record<CredentialKind, string> = { bearer: 'token', basic: 'basic auth', header: 'header' };

/**
 * A bearer token, `user:password` or a header value (Splunk HEC's `Splunk <token>`, Datadog's API key) kept
 * in a file (a mounted Kubernetes Secret). The file is stat'ed
 * before each request and read again when its identity, size or mtime changed, which covers both an
 * in-place write and the kubelet's atomic symlink swap. The secret itself is never put in a reason,
 * log line or error.
 */
export class CredentialFile {
  private cached: { key: string; authorization: string; secret: string } | undefined;

  constructor(
    readonly path: string,
    readonly kind: CredentialKind,
  ) {}

  async current(): Promise<CredentialResult> {
    let key: string;
    try {
      const info = await stat(this.path);
      key = `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
    } catch (error) {
      return {
        ok: false,
        reason: `cannot read ${WHAT[this.kind]} file ${this.path} (${code(error)})`,
      };
    }
    if (this.cached?.key === key) return { ok: true, ...this.cached };
    let text: string;
    try {
      text = (await readFile(this.path, 'utf8')).trim();
    } catch (error) {
      return {
        ok: false,
        reason: `cannot read ${WHAT[this.kind]} file ${this.path} (${code(error)})`,
      };
    }
    if (text === '') return { ok: false, reason: `${this.path} is empty` };
    if (/[\r\n]/.test(text)) return { ok: false, reason: `${this.path} holds more than one line` };
    let authorization: string;
    if (this.kind === 'bearer') {
      authorization = `Bearer ${text}`;
    } else if (this.kind === 'header') {
      authorization = text;
    } else {
      if (!text.includes(':')) return { ok: false, reason: `${this.path} does not hold user:password` };
      authorization = `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;
    }
    this.cached = { key, authorization, secret: text };
    return { ok: true, authorization, secret: text };
  }

  /** Forgets the cached value so the next call reads the file (after a 401, say). */
  invalidate(): void {
    this.cached = undefined;
  }
}

/** Replaces every occurrence of the secrets (and their base64 form) in text meant for logs. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (const form of [secret, Buffer.from(secret, 'utf8').toString('base64')]) {
      out = out.split(form).join('[REDACTED]');
    }
  }
  return out;
}

function code(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}
