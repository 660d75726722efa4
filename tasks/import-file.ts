import { lstat, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { workerData } from 'piscina';
import { toErrorData, VmbError } from '../src/errors.js';
import { hashFile } from '../src/hash/hash-file.js';
import { SourceFile } from '../src/targets/source-file.js';
import type { UploadedItem } from '../src/targets/target.js';
import type { FileTask, Stage, Task, TaskResult, WorkerConfig } from '../src/worker/protocol.js';
import { afterUpload } from '../src/worker/after-upload.js';
import type { FolderTally } from '../src/worker/folder-chain.js';
import { listenForTeardown, threadContext, type ThreadContext } from '../src/worker/thread-context.js';

const config = workerData as WorkerConfig;
listenForTeardown(config);
const statSource = config.followSymlinks ? stat : lstat;

/**
 * The story of one file: make sure its folders exist, open it and check it is still a regular
 * file, upload it, check it did not change meanwhile, record it, and only then move or delete it if
 * asked to. The promise resolves only once the ledger row is committed. Failures come back as
 * data with the stage they happened in.
 *
 * Only reading and uploading hold one of the thread's upload slots. Waiting for a folder to be
 * created does not, so the walk's next folder is created while this one's files upload; nor does
 * waiting for the commit, so the next upload starts while this row waits for its batch.
 */
export default async function importFile(task: Task): Promise<TaskResult> {
  const thread = threadContext(config);
  thread.active++;
  const tally = { foldersCreated: 0, retries: 0 };
  let stage: Stage = 'folder';
  try {
    if (task.kind === 'folder') {
      const itemId = await ensureFolders(thread, task, task.folders, tally);
      return { status: 'folder', itemId, retries: tally.retries, foldersCreated: tally.foldersCreated };
    }
    const parentId = await ensureFolders(thread, task, task.folders, tally);

    const sent = await thread.uploads.use(async () => {
      // Stopping: a file whose upload has not begun is left for the next run.
      if (thread.draining) return null;
      stage = 'read';
      const source = SourceFile.open(task.absPath, { followSymlinks: config.followSymlinks });
      try {
        if (task.expectLocalHash !== undefined && (await hashFile(source)) === task.expectLocalHash) return { before: source.stats, unchanged: true as const };

        stage = 'upload';
        const item = await upload(thread, task, parentId, source, tally);

        stage = 'verify';
        source.assertUnchanged();
        return { before: source.stats, item, unchanged: false as const };
      } finally {
        source.close();
      }
    });
    if (sent === null) return { status: 'not-started', retries: tally.retries, foldersCreated: tally.foldersCreated };
    if (sent.unchanged) {
      return { status: 'unchanged', retries: 0, foldersCreated: tally.foldersCreated, afterUpload: await afterUpload(config.afterUpload, recordedSource(task, sent.before), statSource) };
    }
    const { before, item } = sent;

    stage = 'record';
    const { driveId, remoteRoot } = thread.target;
    await thread.ledger.record({
      corpIndex: task.corpIndex,
      driveId,
      remoteRoot,
      itemId: item.itemId,
      parentItemId: parentId,
      name: task.name,
      remotePath: [...task.folders, task.name].join('/'),
      size: item.size,
      contentHash: item.remoteHash,
      localHash: item.localHash,
      sourcePath: task.sourcePath,
      sourceSize: before.size,
      sourceMtimeMs: before.mtimeMs,
      runId: config.runId,
    });

    stage = 'after-upload';
    const action = await afterUpload(config.afterUpload, recordedSource(task, before), statSource);
    return { status: 'uploaded', bytes: item.size, itemId: item.itemId, retries: tally.retries, foldersCreated: tally.foldersCreated, afterUpload: action };
  } catch (err) {
    const e = toErrorData(err);
    return { status: 'failed', stage, code: e.code, kind: e.kind, message: e.message, retries: tally.retries, foldersCreated: tally.foldersCreated };
  } finally {
    thread.active--;
  }
}

/** What the after-upload action checks the file against: the file as it was uploaded. */
function recordedSource(task: FileTask, st: Stats) {
  return { absPath: task.absPath, sourcePath: task.sourcePath, size: st.size, mtimeMs: st.mtimeMs };
}

function ensureFolders(thread: ThreadContext, task: Task, folders: string[], tally: FolderTally): Promise<string> {
  const sourceDirs = sourceDirsOf(task);
  return thread.folders.ensure(task.corpIndex, folders, sourceDirs, tally);
}

/** Source path of each folder in the chain, aligned with `folders` (the corp folder first). */
function sourceDirsOf(task: Task): string[] {
  const parts = task.sourcePath.split('/');
  const dirs = task.kind === 'file' ? parts.slice(0, -1) : parts;
  const offset = dirs.length - task.folders.length;
  return task.folders.map((_, i) => (i + offset >= 0 ? dirs.slice(0, i + offset + 1).join('/') : ''));
}

/** Retry a retryable upload failure (hash mismatch, request retries exhausted) a bounded number of times. */
async function upload(thread: ThreadContext, task: FileTask, parentId: string, source: SourceFile, tally: { retries: number }): Promise<UploadedItem> {
  for (let attempt = 1; ; attempt++) {
    try {
      const item = await thread.target.upload({
        source,
        parentId,
        name: task.name,
        remotePath: [...task.folders, task.name].join('/'),
        signal: thread.abort.signal,
      });
      tally.retries += item.retries;
      return item;
    } catch (err) {
      if (!(err instanceof VmbError) || err.kind !== 'retryable' || attempt >= config.fileAttempts || thread.abort.signal.aborted) throw err;
      tally.retries++;
    }
  }
}
