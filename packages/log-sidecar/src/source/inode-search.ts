import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** A file's inode as a map key: the same on every listing, whatever the file is called now. */
export function inodeKey(dev: number, ino: number): string {
  return `${dev}:${ino}`;
}

/**
 * Where each of `files` (by `dev:ino`) is now, looking in the directory it was in; a file not found there
 * (deleted, or the directory cannot be listed) is left out. One listing per directory: a rotated file keeps
 * its inode and stays next to its old name.
 */
export async function findByInode(
  files: ReadonlyMap<string, { readonly path: string }>,
): Promise<Map<string, { readonly path: string; readonly stats: Stats }>> {
  const found = new Map<string, { path: string; stats: Stats }>();
  const dirs = new Set([...files.values()].map((file) => dirname(file.path)));
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const path = join(dir, name);
      try {
        const stats = await stat(path);
        const key = inodeKey(stats.dev, stats.ino);
        if (files.has(key) && stats.isFile()) found.set(key, { path, stats });
      } catch {
        // gone between the listing and the stat
      }
    }
  }
  return found;
}
