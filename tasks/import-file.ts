import { lstat, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { workerData } from 'piscina';
import { skip, toErrorData, VmbError } from '../src/errors.js';
import { hashFile } from '../src/hash/hash-file.js';
import type { UploadedItem } from '../src/targets/target.js';
import type { FileTask, Stage, Task, TaskResult, WorkerConfig } from '../src/worker/protocol.js';
import { afterUpload } from '../src/worker/after-upload.js';
import type { FolderTally } from '../src/worker/folder-chain.js';
import { listenForTeardown, threadContext, type ThreadContext } from '../src/worker/thread-context.js';

const config = workerData as WorkerConfig;
listenForTeardown(config);
const statSource = config.followSymlinks ? stat : lstat;

/**
 * The story of one file: check it is still the file the walk saw, make sure its folders exist,
 * upload it, check it did not change meanwhile, record it, and only then move or delete it if
 * asked to. The promise resolves only once the ledger row is committed. Failures come back as
 * data with the stage they happened in.
 */
export default async function importFile(task: Task): Promise<TaskResult> {
  const thread = threadContext(config);
  thread.active++;
  const tally = { foldersCreated: 0, retries: 0 };
  let stage: Stage = 'read';
  try {
    if (task.kind === 'folder') {
      stage = 'folder';
      const itemId = await ensureFolders(thread, task, task.folders, tally);
      return { status: 'folder', itemId, retries: tally.retries, foldersCreated: tally.foldersCreated };
    }
    const before = await regularFile(task);
    if (task.expectLocalHash !== undefined && (await hashFile(task.absPath)) === task.expectLocalHash) {
      return { status: 'unchanged', retries: 0, foldersCreated: 0, afterUpload: await afterUpload(config.afterUpload, source(task, before), statSource) };
    }

    stage = 'folder';
    const parentId = await ensureFolders(thread, task, task.folders, tally);

    stage = 'upload';
    const item = await upload(thread, task, parentId, before, tally);

    stage = 'verify';
    await assertUnchanged(task, before);

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
    const action = await afterUpload(config.afterUpload, source(task, before), statSource);
    return { status: 'uploaded', bytes: item.size, itemId: item.itemId, retries: tally.retries, foldersCreated: tally.foldersCreated, afterUpload: action };
  } catch (err) {
    const e = toErrorData(err);
    return { status: 'failed', stage, code: e.code, kind: e.kind, message: e.message, retries: tally.retries, foldersCreated: tally.foldersCreated };
  } finally {
    thread.active--;
  }
}

function source(task: FileTask, st: Stats) {
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

async function regularFile(task: FileTask): Promise<Stats> {
  let st: Stats;
  try {
    st = await statSource(task.absPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw skip('vanished', 'file vanished between the walk and its upload');
    throw skip('unreadable', `cannot stat the file: ${(err as Error).message}`);
  }
  if (!st.isFile()) throw skip('not-a-file', 'path is no longer a regular file');
  return st;
}

/** Retry a retryable upload failure (hash mismatch, request retries exhausted) a bounded number of times. */
async function upload(thread: ThreadContext, task: FileTask, parentId: string, st: Stats, tally: { retries: number }): Promise<UploadedItem> {
  for (let attempt = 1; ; attempt++) {
    try {
      const item = await thread.target.upload({
        absPath: task.absPath,
        size: st.size,
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

/** A file rewritten during its upload must not be recorded as done: the next run picks it up. */
async function assertUnchanged(task: FileTask, before: Stats): Promise<void> {
  let after: Stats;
  try {
    after = await statSource(task.absPath);
  } catch {
    throw skip('vanished', 'file vanished during its upload');
  }
  if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
    throw skip('file-changed', `file changed during its upload (size ${before.size} → ${after.size}, mtime ${new Date(before.mtimeMs).toISOString()} → ${new Date(after.mtimeMs).toISOString()}); left for the next run`);
  }
}
