import { VmbError, toErrorData } from '../errors/vmb-error.js';
import { hashFile } from '../hash/hash-file.js';
import { SourceFile } from '../drives/source-file.js';
import type { UploadedItem, UploadRequest } from '../drives/drive.js';
import type { FileTask, FolderTask, Stage, Task, TaskOutcome, TaskResult, WorkerConfig } from '../types.js';
import type { FolderTally } from './folder-chain.js';
import { LedgerSessionStore } from './ledger-session-store.js';
import { threadContext, type ThreadContext } from './thread-context.js';

/** Upload attempts per file for retryable failures (hash mismatch, exhausted request retries). */
const FILE_ATTEMPTS = 3;

/**
 * The story of one file in its worker thread: make sure its folders exist, read it (open it and
 * check it is still a regular file), upload it and check it did not change meanwhile, record it.
 * The promise resolves only once the ledger row is committed; what is done to the file after
 * that (--after-upload) is the main thread's. Failures come back as data with their stage.
 *
 * Only reading and uploading hold one of the thread's upload slots. Waiting for a folder to be
 * created does not, so the walk's next folder is created while this one's files upload; nor does
 * waiting for the commit, so the next upload starts while this row waits for its batch.
 */
export async function importTask(config: WorkerConfig, task: Task): Promise<TaskResult> {
  const thread = threadContext(config);
  thread.active++;
  const tally: FolderTally = { foldersCreated: 0, retries: 0 };
  const at = { stage: 'folder' as Stage };
  try {
    const result = task.kind === 'folder' ? await importFolder(thread, task, tally) : await importFile(thread, task, tally, at);
    return { ...tally, ...result };
  } catch (err) {
    // Stopped by the run's bound before its upload began (a folder waiting its turn at the drive).
    if (halted(thread, err)) return { ...tally, status: at.stage === 'folder' ? 'not-started' : 'stopped' };
    const e = toErrorData(err);
    return { ...tally, status: 'failed', stage: at.stage, ...e };
  } finally {
    thread.active--;
  }
}

async function importFolder(thread: ThreadContext, task: FolderTask, tally: FolderTally): Promise<TaskOutcome> {
  return { status: 'folder', itemId: await thread.folders.ensure(task.corpIndex, task.folders, sourceDirsOf(task), tally) };
}

async function importFile(thread: ThreadContext, task: FileTask, tally: FolderTally, at: { stage: Stage }): Promise<TaskOutcome> {
  const parentId = await thread.folders.ensure(task.corpIndex, task.folders, sourceDirsOf(task), tally);
  const remotePath = [...task.folders, task.name].join('/');
  const { driveId, remoteRoot } = thread.driveKey;
  const sessions = new LedgerSessionStore(thread.ledger, { driveId, remoteRoot, remotePath, sourcePath: task.sourcePath, parentItemId: parentId, name: task.name, runId: thread.config.runId }, task.savedSession === true);

  const sent = await thread.uploads.use(async () => {
    // Stopping: a file whose upload has not begun is left for the next run.
    if (thread.runFlags.draining) return 'not-started' as const;
    at.stage = 'read';
    const source = SourceFile.open(task.absPath, { followSymlinks: thread.config.followSymlinks });
    try {
      const read = { size: source.size, mtimeMs: source.mtimeMs };
      if (task.expectLocalHash !== undefined && (await hashFile(source)) === task.expectLocalHash) return { read, item: null };

      at.stage = 'upload';
      let item: UploadedItem;
      try {
        item = await upload(thread, { source, parentId, name: task.name, remotePath, sessions }, tally);
      } catch (err) {
        // The run's bound stopped it: left for the next run, which continues what was kept.
        if (halted(thread, err)) return 'stopped' as const;
        throw err;
      }

      at.stage = 'verify';
      await afterUpload(sessions, () => source.assertUnchanged());
      return { read, item };
    } finally {
      source.close();
    }
  });
  if (sent === 'not-started' || sent === 'stopped') return { status: sent };
  const { read, item } = sent;
  if (item === null) return { status: 'unchanged', source: read };

  at.stage = 'record';
  await afterUpload(sessions, () => thread.commits.add({
    corpIndex: task.corpIndex,
    driveId,
    remoteRoot,
    itemId: item.itemId,
    parentItemId: parentId,
    name: task.name,
    remotePath,
    size: item.size,
    contentHash: item.remoteHash,
    localHash: item.localHash,
    sourcePath: task.sourcePath,
    sourceSize: read.size,
    sourceMtimeMs: read.mtimeMs,
    runId: thread.config.runId,
    uploadSession: sessions.mayExist,
  }));
  return { status: 'uploaded', bytes: item.size, itemId: item.itemId, source: read, resumedBytes: item.resumedBytes };
}

/**
 * Stopped by the run's bound: the thread's halt, or the shared stop state when the governor let go
 * of a waiting request before the halt message reached this thread.
 */
function halted(thread: ThreadContext, err: unknown): boolean {
  return err instanceof VmbError && err.code === 'aborted' && (thread.halt.signal.aborted || thread.runFlags.halting);
}

/**
 * A step after the upload finished: its session is done on the server, so when the file fails
 * here the session row goes too (best effort; a row left behind only costs the next run a GET).
 */
async function afterUpload<T>(sessions: LedgerSessionStore, step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    await sessions.forget().catch(() => undefined);
    throw err;
  }
}

/** Source path of each folder in the chain, aligned with `folders` (the corp folder first). */
function sourceDirsOf(task: Task): string[] {
  const parts = task.sourcePath.split('/');
  const dirs = task.kind === 'file' ? parts.slice(0, -1) : parts;
  const offset = dirs.length - task.folders.length;
  return task.folders.map((_, i) => (i + offset >= 0 ? dirs.slice(0, i + offset + 1).join('/') : ''));
}

/** Retry a retryable upload failure (hash mismatch, request retries exhausted) a bounded number of times. */
async function upload(thread: ThreadContext, req: Omit<UploadRequest, 'signal' | 'halt'>, tally: { retries: number }): Promise<UploadedItem> {
  for (let attempt = 1; ; attempt++) {
    try {
      const item = await thread.drive.upload({ ...req, signal: thread.abort.signal, halt: thread.halt.signal });
      tally.retries += item.retries;
      return item;
    } catch (err) {
      if (!(err instanceof VmbError) || err.kind !== 'retryable' || attempt >= FILE_ATTEMPTS || halted(thread, err) || thread.halt.signal.aborted) throw err;
      tally.retries++;
    }
  }
}
