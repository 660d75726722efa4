import { closeSync, constants, fstatSync, openSync, read, readSync, type Stats } from 'node:fs';
import { retryable, skip, VmbError } from '../errors/vmb-error.js';
import type { SourceFingerprint } from '../types.js';
import { localFault } from './local-faults.js';

/**
 * Reads up to this size are made synchronously. A worker thread's small-file work is a handful of
 * system calls on a page-cache hit, a few microseconds each; made asynchronously, each one is two
 * hand-offs through libuv's thread pool, which all threads share. On the 2-core benchmark machine
 * those hand-offs cost more CPU than the rest of a 4 KiB file's upload put together. Larger reads
 * stay asynchronous so that a slow disk does not stall the thread's other uploads for long.
 */
const SYNC_READ_MAX = 1024 * 1024;

export interface OpenSourceOptions {
  /** --follow-symlinks: open through a symbolic link; otherwise a link is not a file to upload. */
  followSymlinks?: boolean;
}

/**
 * The local file of one upload, opened once: the size and mtime it had when opened are what the
 * upload sends and what its ledger row records, and `assertUnchanged` compares the same open file
 * afterwards. A file replaced by another under the same name meanwhile keeps being read as the one
 * opened, which is then exactly what is recorded; the next run sees the new one by its size and
 * mtime.
 *
 * Opened with O_NONBLOCK (a file swapped for a FIFO since the walk must not hang the thread) and,
 * unless links are followed, O_NOFOLLOW (a file swapped for a link is not followed).
 */
export class SourceFile {
  private fd: number | null;
  private print: SourceFingerprint | undefined;

  private constructor(
    readonly absPath: string,
    fd: number,
    readonly stats: Stats,
  ) {
    this.fd = fd;
  }

  static open(absPath: string, options: OpenSourceOptions = {}): SourceFile {
    const flags = constants.O_RDONLY | constants.O_NONBLOCK | (options.followSymlinks ? 0 : constants.O_NOFOLLOW);
    let fd: number;
    try {
      fd = openSync(absPath, flags);
    } catch (err) {
      throw sourceError(absPath, err);
    }
    let stats: Stats;
    try {
      stats = fstatSync(fd);
    } catch (err) {
      closeSync(fd);
      throw sourceError(absPath, err);
    }
    if (!stats.isFile()) {
      closeSync(fd);
      throw skip('not-a-file', 'path is no longer a regular file');
    }
    return new SourceFile(absPath, fd, stats);
  }

  get size(): number {
    return this.stats.size;
  }

  get mtimeMs(): number {
    return this.stats.mtimeMs;
  }

  /**
   * Size, mtime and ctime in nanoseconds, inode and device: what tells a resumed upload that this
   * is still the file its session was created for. Taken from the open descriptor on first use
   * (a second fstat, in nanoseconds, only for the uploads that resume), then kept.
   */
  get fingerprint(): SourceFingerprint {
    if (this.print === undefined) {
      let s;
      try {
        s = fstatSync(this.openFd(), { bigint: true });
      } catch (err) {
        throw sourceError(this.absPath, err);
      }
      if (Number(s.size) !== this.stats.size) throw skip('file-changed', `file changed since it was opened (size ${this.stats.size} → ${s.size}); left for the next run`);
      this.print = { size: this.stats.size, mtimeNs: String(s.mtimeNs), ctimeNs: String(s.ctimeNs), ino: String(s.ino), dev: String(s.dev) };
    }
    return this.print;
  }

  /** Bytes read into `buffer[offset…]` from file position `position`; 0 at the end of the file. */
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    if (this.fd === null) return Promise.reject(this.closedError());
    const fd = this.fd;
    if (length <= SYNC_READ_MAX) {
      try {
        return Promise.resolve(readSync(fd, buffer, offset, length, position));
      } catch (err) {
        return Promise.reject(sourceError(this.absPath, err));
      }
    }
    return new Promise((resolve, reject) => {
      read(fd, buffer, offset, length, position, (err, bytesRead) => (err ? reject(sourceError(this.absPath, err)) : resolve(bytesRead)));
    });
  }

  /** A file rewritten while it was uploaded must not be recorded as done: the next run picks it up. */
  assertUnchanged(): void {
    let now: Stats;
    try {
      now = fstatSync(this.openFd());
    } catch (err) {
      throw sourceError(this.absPath, err);
    }
    const before = this.stats;
    if (now.size !== before.size || now.mtimeMs !== before.mtimeMs) {
      throw skip(
        'file-changed',
        `file changed during its upload (size ${before.size} → ${now.size}, mtime ${new Date(before.mtimeMs).toISOString()} → ${new Date(now.mtimeMs).toISOString()}); left for the next run`,
      );
    }
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    closeSync(fd);
  }

  private openFd(): number {
    if (this.fd === null) throw this.closedError();
    return this.fd;
  }

  private closedError(): VmbError {
    return new VmbError('fatal', 'internal-error', `${this.absPath}: used after close`);
  }
}

/** The codes the walk uses for the same faults. */
function sourceError(absPath: string, err: unknown): VmbError {
  const code = (err as NodeJS.ErrnoException).code;
  const detail = err instanceof Error ? err.message : String(err);
  if (code === 'ENOENT') return skip('vanished', 'file vanished between the walk and its upload', { cause: err });
  // O_NOFOLLOW on a symbolic link.
  if (code === 'ELOOP') return skip('not-a-file', 'path is now a symbolic link', { cause: err });
  const fault = localFault(err);
  if (fault) return retryable(fault, `${absPath}: ${detail}`, { cause: err });
  return skip('unreadable', `cannot read the file: ${detail}`, { cause: err });
}
