import type { Code } from '../errors/codes.js';
import type { SavedUploadSession } from '../types.js';
import type { SourceFile } from './source-file.js';

/**
 * The drive a run uploads to. One instance lives in each worker thread and is built there from
 * plain `DriveConfig` data (src/types.ts): its HTTP agents, tokens and caches never cross a thread
 * boundary.
 *
 * Paths: `remotePath` is always the path below the run's remote root, `/`-separated, already
 * mapped through the drive's naming rules (see `RemoteNamer`), e.g. `1042/2026/scan.pdf`.
 */
export interface Drive {
  /** Identity of the drive as stored in `vmb_items.drive_id`. */
  readonly driveId: string;
  /** Remote root as stored in `vmb_items.remote_root`. */
  readonly remoteRoot: string;

  /**
   * Get or create the folder `name` inside `parentId` (null: inside the remote root) and return its
   * item id. Must be idempotent and safe when several threads create the same folder at once.
   */
  ensureFolder(req: EnsureFolderRequest): Promise<string>;

  /**
   * Upload the file's content to `name` in folder `parentId`, replacing the content of an existing
   * item in place (same item id). Streams from disk; computes the local quickXorHash on the way.
   * Resolves only when the remote item is complete.
   */
  upload(req: UploadRequest): Promise<UploadedItem>;

  /** Release this thread's connections (keep-alive sockets, sessions). Called at thread teardown. */
  close(): Promise<void>;
}

export interface EnsureFolderRequest {
  parentId: string | null;
  name: string;
  remotePath: string;
  /** Retried requests are counted here, for the run's summary. */
  stats?: { retries: number };
}

export interface UploadRequest {
  /**
   * The open local file. Its size when opened is what is sent; the upload fails with
   * `file-changed` when the bytes read differ. The caller closes it.
   */
  source: SourceFile;
  parentId: string;
  name: string;
  remotePath: string;
  /** Aborts at once: requests in flight are cut. */
  signal?: AbortSignal;
  /**
   * The run's hard bound (--max-runtime, the grace after a signal): stop at the next point the
   * upload can be continued from, and keep what lets a later run continue it. A session upload
   * stops after the fragment it is sending, its session kept in `sessions`; an upload with
   * nothing to continue from (one PUT) is aborted. Either way it fails with code `aborted`.
   */
  halt?: AbortSignal;
  /** Where this file's upload session is kept across runs; without it a session ends with its upload. */
  sessions?: UploadSessionStore;
}

/**
 * One target path's upload session as kept between runs (the ledger's `vmb_upload_sessions`, wired
 * by the worker): the drive never sees the ledger itself.
 */
export interface UploadSessionStore {
  /** The session an earlier run left for this path, if any. */
  load(): Promise<SavedUploadSession | null>;
  /** A new session, before its first fragment; replaces the path's older one. */
  save(session: SavedUploadSession): Promise<void>;
  /** The server confirmed more bytes; also marks the session as this run's. */
  progress(uploadUrl: string, bytesConfirmed: number, expiresAt: number): Promise<void>;
  /** The session is abandoned (cancelled, expired, of another file) or failed. */
  forget(): Promise<void>;
}

export interface UploadedItem {
  itemId: string;
  /** Size the remote reports. */
  size: number;
  /** Hash the remote reports (quickXorHash, base64); null when the remote gives none. */
  remoteHash: string | null;
  /** quickXorHash (base64) of the bytes read and sent. */
  localHash: string;
  /** Requests retried while uploading this file (throttling, resets); counted in the summary. */
  retries: number;
  /** Bytes an earlier run had sent, which this upload continued from instead of sending again (0: none). */
  resumedBytes: number;
}

/**
 * Maps one local path segment to a remote name, or says why it cannot be uploaded. Pure: runs in
 * the main thread while planning, so a bad name is skipped before any task is dispatched.
 */
export type RemoteNamer = (segment: string, isFolder: boolean) => { ok: true; name: string } | { ok: false; code: Code; reason: string };
