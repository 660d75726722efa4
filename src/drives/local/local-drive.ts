import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { retryable, skip } from '../../errors/vmb-error.js';
import { QuickXorHash } from '../../hash/quickxorhash.js';
import type { DriveKey, LocalDriveConfig } from '../../types.js';
import { localFault } from '../local-faults.js';
import type { Drive, EnsureFolderRequest, RemoteNamer, UploadRequest, UploadedItem } from '../drive.js';

const COPY_BUFFER_BYTES = 1024 * 1024;

/**
 * A folder on this machine standing in for a drive, for trying the importer out. Item ids are
 * derived from the drive and the path, so the same path keeps its id across runs, as a OneDrive
 * item does when its content is replaced. Content is written to a temporary name and renamed into
 * place, so a reader never sees a half-written file.
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
    const temp = path.join(path.dirname(dest), `.${path.basename(dest)}.vmb-${randomBytes(4).toString('hex')}`);
    const hash = new QuickXorHash();
    const { source } = req;
    // One buffer per upload: a thread runs several uploads at once. One byte more than the file had
    // when opened lets a grown file show itself without a second read.
    const buffer = Buffer.allocUnsafe(Math.min(COPY_BUFFER_BYTES, source.size + 1));
    let bytes = 0;
    try {
      await mkdir(path.dirname(dest), { recursive: true });
      const out = await open(temp, 'w');
      try {
        for (;;) {
          req.signal?.throwIfAborted();
          const bytesRead = await source.read(buffer, 0, buffer.length, bytes);
          if (bytesRead === 0) break;
          const chunk = buffer.subarray(0, bytesRead);
          hash.update(chunk);
          await out.write(chunk);
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
      await unlink(temp).catch(() => undefined);
      throw classifyWriteError(err);
    }
    const digest = hash.digestBase64();
    return { itemId: this.itemId(req.remotePath), size: bytes, remoteHash: digest, localHash: digest, retries: 0 };
  }

  async close(): Promise<void> {}

  private resolve(remotePath: string): string {
    return path.join(this.config.root, ...remotePath.split('/'));
  }

  private itemId(remotePath: string): string {
    return `local-${createHash('sha256').update(this.driveId).update('\0').update(remotePath).digest('hex').slice(0, 32)}`;
  }
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
