import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { retryable, skip, VmbError } from '../../errors/vmb-error.js';
import { QuickXorHash } from '../../hash/quickxorhash.js';
import type { DriveKey, LocalDriveConfig, SourceFingerprint } from '../../types.js';
import type { SourceFile } from '../source-file.js';
import { localFault } from '../local-faults.js';
import type { Drive, EnsureFolderRequest, RemoteNamer, UploadRequest, UploadedItem } from '../drive.js';

const COPY_BUFFER_BYTES = 1024 * 1024;
const PARTIAL_PREFIX = '.vmb-partial-';

/**
 * A folder on this machine standing in for a drive, for trying the importer out. Item ids are
 * derived from the drive and the path, so the same path keeps its id across runs, as a OneDrive
 * item does when its content is replaced. Content is written to a temporary name and renamed into
 * place, so a reader never sees a half-written file.
 *
 * The temporary name is derived from the destination and the source's fingerprint, so a copy the
 * run's bound stopped (or a kill -9 cut) is continued by the next run while the source is the same
 * file: the part already copied is compared with the source (read, not written again) and the copy
 * goes on from the first byte that differs. A copy of a file that has changed since gets another
 * name and starts afresh.
 */
export class LocalDrive implements Drive {
  readonly driveId: string;
  readonly remoteRoot: string;

  constructor(private readonly config: LocalDriveConfig) {
    ({ driveId: this.driveId, remoteRoot: this.remoteRoot } = localDriveKey(config.root));
  }

  async ensureFolder(req: EnsureFolderRequest): Promise<string> {
    await mkdir(this.resolve(req.remotePath), { recursive: true });
    return this.itemId(req.remotePath);
  }

  async upload(req: UploadRequest): Promise<UploadedItem> {
    const dest = this.resolve(req.remotePath);
    const { source } = req;
    const temp = partialCopyPath(dest, source.fingerprint);
    const hash = new QuickXorHash();
    // One buffer per upload: a thread runs several uploads at once. One byte more than the file had
    // when opened lets a grown file show itself without a second read.
    const buffer = Buffer.allocUnsafe(Math.min(COPY_BUFFER_BYTES, source.size + 1));
    let bytes = 0;
    let resumedBytes = 0;
    const stop = () => {
      if (req.halt?.aborted || req.signal?.aborted) throw new VmbError('retryable', 'aborted', `${req.remotePath}: copy stopped after ${bytes} of ${source.size} bytes; the partial copy is kept for the next run`);
    };
    try {
      await mkdir(path.dirname(dest), { recursive: true });
      const out = await open(temp, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o666);
      try {
        bytes = resumedBytes = await keptPrefix(out, source, hash, buffer, stop);
        for (;;) {
          stop();
          const bytesRead = await source.read(buffer, 0, buffer.length, bytes);
          if (bytesRead === 0) break;
          const chunk = buffer.subarray(0, bytesRead);
          hash.update(chunk);
          await out.write(chunk, 0, bytesRead, bytes);
          bytes += bytesRead;
        }
      } finally {
        await out.close();
      }
      if (bytes !== source.size) {
        throw skip('file-changed', `file changed while it was read: it had ${source.size} bytes when opened, ${bytes} were read`);
      }
      await rename(temp, dest);
    } catch (err) {
      if (!(err instanceof VmbError && err.code === 'aborted')) await unlink(temp).catch(() => undefined);
      throw classifyWriteError(err);
    }
    const digest = hash.digestBase64();
    return { itemId: this.itemId(req.remotePath), size: bytes, remoteHash: digest, localHash: digest, retries: 0, resumedBytes };
  }

  async close(): Promise<void> {}

  private resolve(remotePath: string): string {
    return path.join(this.config.root, ...remotePath.split('/'));
  }

  private itemId(remotePath: string): string {
    return localItemId(this.driveId, remotePath);
  }
}

/** The same path keeps its id across runs; a moved or renamed file is another item. */
export function localItemId(driveId: string, remotePath: string): string {
  return `local-${createHash('sha256').update(driveId).update('\0').update(remotePath).digest('hex').slice(0, 32)}`;
}

/** A copy in progress or left for the next run to continue: the drive's own, never an item. */
export const isPartialCopy = (name: string): boolean => name.startsWith(PARTIAL_PREFIX);

/**
 * Hidden, beside the destination, and named by a hash of the destination's name and the source's
 * fingerprint rather than by the name itself, which may already be as long as a name can be.
 */
export function partialCopyPath(dest: string, fingerprint: SourceFingerprint): string {
  const f = fingerprint;
  const key = createHash('sha256').update([path.basename(dest), f.size, f.mtimeNs, f.ctimeNs, f.ino, f.dev].join('\0')).digest('hex').slice(0, 32);
  return path.join(path.dirname(dest), `${PARTIAL_PREFIX}${key}`);
}

/**
 * How much of an interrupted copy can stay: the bytes that still equal the source's, compared a
 * buffer at a time (and hashed, as if copied); whatever follows is cut off. A copy cut by a power
 * loss may end in bytes never written, which the comparison finds.
 */
async function keptPrefix(out: FileHandle, source: SourceFile, hash: QuickXorHash, buffer: Buffer, stop: () => void): Promise<number> {
  const had = (await out.stat()).size;
  const comparable = Math.min(had, source.size);
  const theirs = comparable > 0 ? Buffer.allocUnsafe(buffer.length) : buffer;
  let kept = 0;
  while (kept < comparable) {
    // Stopping here leaves the partial copy as it was, for the next run.
    stop();
    const length = Math.min(buffer.length, comparable - kept);
    const ours = await source.read(buffer, 0, length, kept);
    const { bytesRead } = await out.read(theirs, 0, length, kept);
    if (ours !== length || bytesRead !== length || !buffer.subarray(0, length).equals(theirs.subarray(0, length))) break;
    hash.update(buffer.subarray(0, length));
    kept += length;
  }
  if (had !== kept) await out.truncate(kept);
  return kept;
}

function classifyWriteError(err: unknown): unknown {
  const fault = localFault(err);
  return fault ? retryable(fault, (err as Error).message, { cause: err }) : err;
}

export function localDriveKey(root: string): DriveKey {
  return { driveId: `local:${root}`, remoteRoot: '/' };
}

/** Local names: anything valid UTF-8 without a slash or NUL (the walk has already rejected the rest). */
export const localNamer: RemoteNamer = (segment) =>
  segment.includes('\0') || segment === '.' || segment === '..'
    ? { ok: false, code: 'name-invalid', reason: `name ${JSON.stringify(segment)} cannot be used as a file name` }
    : { ok: true, name: segment };
