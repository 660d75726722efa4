import type { DriftClass } from './errors/drift-classes.js';
import type { Code, ErrorKind, Stage } from './errors/codes.js';

/**
 * The plain types every layer shares: what crosses between the main thread and the worker
 * threads (configuration, tasks, results, channel messages) and the words of a run. Plain data
 * only: no connection, client, agent or stream is ever one of these, so each can be posted to
 * another thread or stored. This module imports nothing but the error vocabulary.
 */

export type { Code, ErrorKind, Stage };

/** Which drive and remote root a ledger row belongs to, as stored in `vmb_items`. */
export interface DriveKey {
  driveId: string;
  remoteRoot: string;
}

/**
 * What identifies a source file's content without reading it: a resumed upload must be of the same
 * file as the session it continues. mtime and ctime in nanoseconds, inode and device as decimal
 * strings (exact beyond 2^53). A same-size edit with the mtime put back still moves the ctime;
 * a file replaced by another has another inode.
 */
export interface SourceFingerprint {
  size: number;
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
  dev: string;
}

/** An upload session kept for a later run, as the ledger holds it (`vmb_upload_sessions`). */
export interface SavedUploadSession {
  /** Carries its own credential (tempauth): never logged, never in an error or another table. */
  uploadUrl: string;
  /** ms since the epoch, as the server last said. */
  expiresAt: number;
  /** ms since the epoch: the upload URL's token dies about 24 h after this (docs/graph-facts.md §9). */
  createdAt: number;
  /** Bytes the server had confirmed when the row was last written; the server's own answer is authoritative. */
  bytesConfirmed: number;
  /** The source file the session was created for. */
  fingerprint: SourceFingerprint;
}

/** How to reach the ledger (src/ledger/address.ts makes it): a connection string, or the PG* variables when absent. */
export interface LedgerAddress {
  /** Connection URL, already rewritten to libpq's sslmode meaning. */
  connectionString?: string;
  /** For messages: the URL with its password replaced. */
  display: string;
}

/** `keep` leaves the file; `delete` removes it; `move` moves it below `dir`, keeping its relative path. */
export type AfterUpload = { kind: 'keep' } | { kind: 'delete' } | { kind: 'move'; dir: string };

/** How a worker thread builds its own drive. */
export type DriveConfig = LocalDriveConfig | OneDriveConfig;

export interface LocalDriveConfig {
  kind: 'local';
  /** Absolute directory the drive lives in. */
  root: string;
}

export interface OneDriveConfig {
  kind: 'onedrive';
  driveId: string;
  remoteRoot: string;
  graphUrl: string;
  authorityHost?: string;
  chunkSize: number;
  simpleUploadMax: number;
  retries: number;
  /** Per-request idle timeout in ms. */
  requestTimeoutMs: number;
  /**
   * Upload buffers this thread may hold at once (at least one chunk). Uploads beyond it wait for a
   * buffer, which bounds memory however many large files are in flight.
   */
  bufferBytes: number;
  /** --max-rate: RU per minute, 0 for none. */
  maxRate: number;
  /** --bwlimit: bytes per second for the whole run, 0 for none. */
  bwlimit: number;
  userAgent: string;
  /**
   * Shared between all threads (plain memory, not a connection): the traffic governor's hold,
   * schedules and learned rate, see src/drives/onedrive/governor.ts.
   */
  governorBuffer: SharedArrayBuffer;
  /**
   * Static bearer token (VMB_GRAPH_TOKEN) when given; otherwise credentials come from the standard
   * AZURE_* environment variables inside each thread.
   */
  staticToken?: string;
}

/** Given once to every worker thread as Piscina `workerData`. */
export interface WorkerConfig {
  runId: number;
  ledger: LedgerAddress;
  drive: DriveConfig;
  /** `application_name` of every worker connection, so the server side can be inspected. */
  applicationName: string;
  /** --tasks-per-thread: uploads one thread runs at once; finished ones wait for their commit apart. */
  tasksPerThread: number;
  /** --batch-size: most rows merged in one transaction. */
  batchSize: number;
  /** --follow-symlinks: a file is opened through links, otherwise never. */
  followSymlinks: boolean;
  /** The run's stop state in shared memory (src/limits/run-flags.ts): draining, aborting. */
  runFlags: SharedArrayBuffer;
  /** BroadcastChannel name for run-wide messages to every thread (abort, close). */
  channel: string;
}

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
  /** An earlier run left an upload session for this path (`vmb_upload_sessions`): try to continue it. */
  savedSession?: true;
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

/** The file as it was read for its upload: what its row records and what --after-upload checks. */
export interface ReadSource {
  size: number;
  mtimeMs: number;
}

/** What became of one task. */
export type TaskOutcome =
  | { status: 'uploaded'; bytes: number; itemId: string; source: ReadSource; resumedBytes: number }
  /** --checksum found the content unchanged: nothing was uploaded. */
  | { status: 'unchanged'; source: ReadSource }
  | { status: 'folder'; itemId: string }
  /** The run was stopping before this file's upload began: left for the next run, not a failure. */
  | { status: 'not-started' }
  /**
   * The run's hard bound stopped this file's upload (--max-runtime, the grace over, a second
   * signal): not recorded, not a failure, left for the next run, which continues its upload
   * session (or partial copy) when it kept one.
   */
  | { status: 'stopped' }
  | { status: 'failed'; stage: Stage; code: Code; kind: ErrorKind; message: string; stack?: string };

/** What a thread reports for one task; requests retried and folders created count whatever the outcome. */
export type TaskResult = TaskOutcome & { retries: number; foldersCreated: number };

/** Main → threads, on the BroadcastChannel. */
export type ChannelMessage = { type: 'halt' } | { type: 'abort' } | { type: 'close' };

/** Thread → main, through `parentPort` (Piscina re-emits it as the pool's 'message' event). */
export interface ThreadClosed {
  type: 'vmb:closed';
  threadId: number;
  /** Whether this thread had opened a ledger connection. */
  hadLedger: boolean;
  connects: number;
}

/** A file or folder the run skipped or failed, as the summary lists it and `vmb_import_failures` keeps it. */
export interface FileFailure {
  path: string;
  stage: Stage;
  code: Code;
  reason: string;
}

/**
 * What the traffic governor saw over a run (OneDrive; all zero for the local drive): requests the
 * drive throttled (429/503), time no request could start because of a hold, and the resource units
 * spent per minute of the run.
 */
export interface ThrottlingTally {
  throttledRequests: number;
  heldMs: number;
  resourceUnitsPerMinute: number;
  /** The pace learned from the throttles at the end (RU per minute; 0: none), which the next run starts from. */
  learnedRatePerMinute: number;
}

/** The main thread's reading of a drive's shared traffic state (OneDrive's governor). */
export interface TrafficReading {
  throttledRequests: number;
  heldMs: number;
  /** Epoch ms before which no request starts (in the past when there is no hold). */
  holdUntil: number;
  /** Holds begun so far. */
  holds: number;
  /** RU of the requests the drive accepted. */
  resourceUnitsAdmitted: number;
  /** The pace learned from the throttles, RU per minute; 0 while nothing is learned. */
  learnedRatePerMinute: number;
  /** Since when throttling has let nothing through (epoch ms), or null. */
  throttledSince: number | null;
  /** Since when the drive has answered only 503 (epoch ms), or null. */
  unavailableSince: number | null;
}

/** Why a run stopped before the walk ended. */
export type StopReason = 'SIGINT' | 'SIGTERM' | 'max-runtime' | 'throttle-timeout' | 'graph-blocked' | 'lock-lost' | 'fatal-error';

export type RunStatus = 'succeeded' | 'failed' | 'partial' | 'interrupted';

/**
 * One item of a drive as a listing gives it (`vmb-import check`): the drive's own view, to be
 * compared with the ledger's row of the same id.
 */
export interface RemoteItem {
  id: string;
  /** The drive's parent item; null for the drive's root (and, in a local listing, for the items in its root). */
  parentId: string | null;
  name: string;
  isFolder: boolean;
  size: number | null;
  /** quickXorHash, base64; null when the drive gives none (folders, a file not hashed yet). */
  hash: string | null;
  /** The drive's count of a folder's children; null for a file. */
  childCount: number | null;
}

/** One row of the ledger as `vmb-import check` compares it. */
export interface LedgerItem {
  itemId: string;
  parentItemId: string | null;
  name: string;
  remotePath: string;
  isFolder: boolean;
  size: number | null;
  hash: string | null;
  childCount: number;
  sourcePath: string | null;
}

/** What `vmb-import check` found, one entry per difference (src/errors/drift-classes.ts names the classes). */
export interface Difference {
  class: DriftClass;
  /** The drive item's id (the row's, or for `untracked-remote` the item's). */
  itemId: string;
  /** Below the remote root: where the row says, or for `untracked-remote` where the drive has it. */
  path: string;
  /** What the ledger records, where the class compares something (parent, name, size, hash, count). */
  ledger?: string | number | null;
  /** What the drive has instead. */
  drive?: string | number | null;
}

/** How the drive was listed. */
export interface ListingStats {
  /** `full`: the whole drive from Graph's delta; `incremental`: only the changes since the stored deltaLink; `walk`: the local drive's folder read. */
  kind: 'full' | 'incremental' | 'walk';
  /** Delta pages fetched (0 for a walk). */
  pages: number;
  /** Items the feed or the walk gave. */
  itemsReceived: number;
  /** Times the feed said its token had expired (410) and the listing started afresh. */
  resyncs: number;
}

/** What `check --fix` changes (or, with --dry-run, would change) in the ledger; never anything on the drive. */
export interface FixReport {
  /** Rows removed: items gone from the drive, so the next import uploads them again. */
  rowsRemoved: number;
  /** Rows that follow their items to another parent, name or path (descendants of a moved folder included). */
  rowsMoved: number;
  /** Folder rows whose child_count was counted again. */
  foldersRecounted: number;
  /** Rows the fix cannot follow, with why. */
  left: { itemId: string; path: string; reason: string }[];
}

export type CheckStatus = 'clean' | 'drift' | 'fixed';

/**
 * The result of one `vmb-import check`: plain data, the one source of its output, its `--json`,
 * its run row's counts and any metrics.
 */
export interface CheckSummary {
  /** The run row (kind `check`); null for --dry-run, which records nothing. */
  runId: number | null;
  /** `clean`: no drift; `drift`: drift found (and, after --fix, some remains); `fixed`: --fix mended all it found. */
  status: CheckStatus;
  fix: boolean;
  dryRun: boolean;
  target: string;
  driveId: string;
  remoteRoot: string;
  /** The source tree read for `missing-local`, or null. */
  sourceRoot: string | null;
  /** Ledger rows compared. */
  rows: number;
  /** Items below the remote root on the drive. */
  items: number;
  listing: ListingStats;
  /** Differences per drift class, every class present. */
  counts: Record<DriftClass, number>;
  /** Every difference found. */
  differences: Difference[];
  /** --fix: what it changed; --fix --dry-run: what it would change. */
  fixed: FixReport | null;
  /** After --fix: the differences per class that remain (the check again against the fixed ledger). */
  remaining: Record<DriftClass, number> | null;
  durationMs: number;
}
