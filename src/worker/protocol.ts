import type { DatabaseTarget } from '../db/connection-config.js';
import type { TargetConfig } from '../targets/target.js';

/**
 * Everything that crosses between the main thread and the worker threads. Plain data only: no
 * connection, client, agent or stream ever goes through here.
 */

/** Given once to every thread as Piscina `workerData`. */
export interface WorkerConfig {
  runId: number;
  database: DatabaseTarget;
  target: TargetConfig;
  /** `application_name` of every worker connection, so the server side can be inspected. */
  applicationName: string;
  /** Uploads one thread runs at once (--tasks-per-thread); finished ones wait for their commit apart. */
  uploadsPerThread: number;
  /** Most rows merged in one transaction (--batch-size). */
  maxBatch: number;
  /** How long a finished upload's row may wait for company before its batch is committed anyway. */
  maxBatchDelayMs: number;
  /** Upload attempts per file for retryable failures (hash mismatch, exhausted request retries). */
  fileAttempts: number;
  /** BroadcastChannel name for run-wide messages to every thread (teardown, abort). */
  channel: string;
  /** What to do with a source file once its row is committed. */
  afterUpload: AfterUpload;
  /** --follow-symlinks: a file is looked at through links (stat), otherwise never (lstat). */
  followSymlinks: boolean;
}

/** `keep` leaves the file; `delete` removes it; `move` moves it below `dir`, keeping its relative path. */
export type AfterUpload = { kind: 'keep' } | { kind: 'delete' } | { kind: 'move'; dir: string };

/** One file to read, upload and record. */
export interface FileTask {
  kind: 'file';
  absPath: string;
  /** Path below the import root, for reports and `source_path`. */
  sourcePath: string;
  corpIndex: number;
  /** Remote names of the folders from the corp folder down to the file's parent, e.g. ['1042', '2026']. */
  folders: string[];
  name: string;
  size: number;
  mtimeMs: number;
  /**
   * --checksum: the ledger's hash of this file. The thread hashes the file first and uploads only
   * when the content differs.
   */
  expectLocalHash?: string;
}

/** One folder to create even if no file below it needs it (empty directories). */
export interface FolderTask {
  kind: 'folder';
  sourcePath: string;
  corpIndex: number;
  /** Remote names from the corp folder down to this folder itself. */
  folders: string[];
}

export type Task = FileTask | FolderTask;

export type Stage = 'walk' | 'plan' | 'read' | 'folder' | 'upload' | 'verify' | 'record' | 'after-upload';

/** Why the after-upload action failed; the file itself is imported and kept. */
export interface AfterUploadFailure {
  code: string;
  message: string;
}

export type TaskResult =
  | { status: 'uploaded'; bytes: number; itemId: string; retries: number; foldersCreated: number; afterUpload?: AfterUploadFailure }
  | { status: 'unchanged'; retries: number; foldersCreated: number; afterUpload?: AfterUploadFailure }
  | { status: 'folder'; itemId: string; retries: number; foldersCreated: number }
  /** The run was stopping before this file's upload began: left for the next run, not a failure. */
  | { status: 'not-started'; retries: number; foldersCreated: number }
  | { status: 'failed'; stage: Stage; code: string; kind: 'retryable' | 'skip' | 'fatal'; message: string; retries: number; foldersCreated: number };

/** Main → threads, on the BroadcastChannel. */
export type ChannelMessage = { type: 'drain' } | { type: 'abort' } | { type: 'close' };

/** Thread → main, through `parentPort` (Piscina re-emits it as the pool's 'message' event). */
export interface ThreadClosed {
  type: 'vmb:closed';
  threadId: number;
  /** Whether this thread had opened a database connection. */
  hadDatabase: boolean;
  connects: number;
}
