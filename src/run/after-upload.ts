import { copyFile, lstat, mkdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { AfterUpload, FileFailure, ReadSource } from '../types.js';

/** The file as it was uploaded (or found unchanged): where it is, and its size and mtime then. */
export interface RecordedFile extends ReadSource {
  absPath: string;
  /** Path below the import root; a moved file keeps it below the move directory. */
  sourcePath: string;
}

/**
 * --after-upload, the one place it is done: on the main thread, only once the file's row is
 * committed (or the file was found unchanged). The file is acted on only if it is still exactly
 * what was recorded (same size and mtime): a file rewritten meanwhile is left alone for the next
 * run. Returns the failure to account, never throws; the file then stays where it was.
 */
export class AfterUploadStep {
  private readonly statFile: typeof lstat;

  constructor(
    readonly action: AfterUpload,
    followSymlinks: boolean,
  ) {
    this.statFile = followSymlinks ? stat : lstat;
  }

  get acts(): boolean {
    return this.action.kind !== 'keep';
  }

  async apply(file: RecordedFile): Promise<FileFailure | undefined> {
    const { action } = this;
    if (action.kind === 'keep') return undefined;
    const failure = (code: FileFailure['code'], reason: string): FileFailure => ({ path: file.sourcePath, stage: 'after-upload', code, reason });
    try {
      const now = await this.statFile(file.absPath);
      if (now.size !== file.size || now.mtimeMs !== file.mtimeMs) {
        return failure('after-upload-changed', `file changed after its upload; not ${action.kind === 'delete' ? 'deleted' : 'moved'}, the next run imports the new content`);
      }
      if (action.kind === 'delete') await unlink(file.absPath);
      else {
        const dest = path.join(action.dir, ...file.sourcePath.split('/'));
        await mkdir(path.dirname(dest), { recursive: true });
        await moveFile(file.absPath, dest);
      }
      return undefined;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return failure(action.kind === 'delete' ? 'after-upload-delete-failed' : 'after-upload-move-failed', `could not ${action.kind} the file after its upload (${e.code ?? e.message}); it was left in place`);
    }
  }
}

/** rename, or copy then unlink across file systems; the source goes only once the copy is whole. */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await copyFile(from, to);
    await unlink(from);
  }
}
