import { copyFile, lstat, mkdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { AfterUpload, AfterUploadFailure } from './protocol.js';

export interface RecordedSource {
  absPath: string;
  /** Path below the import root; a moved file keeps it below the move directory. */
  sourcePath: string;
  size: number;
  mtimeMs: number;
}

/**
 * Runs only after the file's row is committed. The file is acted on only if it is still exactly
 * what was uploaded (same size and mtime): a file rewritten meanwhile is left alone for the next
 * run. A failure is reported, never fatal to the file, which then stays where it was.
 */
export async function afterUpload(action: AfterUpload, source: RecordedSource, statSource: typeof lstat = lstat): Promise<AfterUploadFailure | undefined> {
  if (action.kind === 'keep') return undefined;
  try {
    const now = await statSource(source.absPath);
    if (now.size !== source.size || now.mtimeMs !== source.mtimeMs) {
      return { code: 'after-upload-changed', message: `file changed after its upload; not ${action.kind === 'delete' ? 'deleted' : 'moved'}, the next run imports the new content` };
    }
    if (action.kind === 'delete') {
      await unlink(source.absPath);
      return undefined;
    }
    const dest = path.join(action.dir, ...source.sourcePath.split('/'));
    await mkdir(path.dirname(dest), { recursive: true });
    await moveFile(source.absPath, dest);
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { code: `after-upload-${action.kind}-failed`, message: `could not ${action.kind} the file after its upload (${e.code ?? e.message}); it was left in place` };
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
