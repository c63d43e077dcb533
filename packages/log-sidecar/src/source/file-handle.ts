import { close, fstat, open, read, type Stats } from 'node:fs';

/** The file-descriptor calls the source makes, as promises over plain numeric descriptors. */
export function openFile(path: string): Promise<number> {
  return new Promise((resolve, reject) =>
    open(path, 'r', (error, fd) => (error ? reject(error) : resolve(fd))),
  );
}

export function fstatFile(fd: number): Promise<Stats> {
  return new Promise((resolve, reject) =>
    fstat(fd, (error, stats) => (error ? reject(error) : resolve(stats))),
  );
}

/** Reads up to `length` bytes at `position` into the start of `buffer`; resolves with the bytes read. */
export function pread(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buffer, 0, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead))),
  );
}

/** Closes `fd`; a failure to close is of no use to anyone, so it is not reported. */
export function closeFile(fd: number): Promise<void> {
  return new Promise((resolve) => close(fd, () => resolve()));
}
