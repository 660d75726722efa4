import type pg from 'pg';
import type { DriveKey, LedgerItem, RemoteItem, SavedUploadSession } from '../types.js';
import { query } from './sql-files.js';

/**
 * Every statement the importer runs at run time, one small named function each, SQL text in
 * sql/queries/, values always as $n parameters.
 */

export interface FolderRow extends DriveKey {
  corpIndex: number;
  itemId: string;
  parentItemId: string | null;
  name: string;
  remotePath: string;
  sourcePath: string | null;
  runId: number | null;
}

/** Insert a folder row unless it exists; returns null when it already existed. */
export async function insertFolder(c: pg.Client, f: FolderRow): Promise<{ itemId: string; parentBumped: boolean } | null> {
  const r = await c.query<{ onedrive_item_id: string; parent_bumped: boolean }>(query('insert-folder'), [
    f.corpIndex, f.driveId, f.remoteRoot, f.itemId, f.parentItemId, f.name, f.remotePath, f.sourcePath, f.runId,
  ]);
  const row = r.rows[0];
  return row ? { itemId: row.onedrive_item_id, parentBumped: row.parent_bumped } : null;
}

export async function findFolders(c: pg.Client, key: DriveKey, remotePaths: string[]): Promise<Map<string, string>> {
  const r = await c.query<{ remote_path: string; onedrive_item_id: string }>(query('find-folders'), [key.driveId, key.remoteRoot, remotePaths]);
  return new Map(r.rows.map((row) => [row.remote_path, row.onedrive_item_id]));
}

export interface LedgerEntry {
  isFolder: boolean;
  sourceSize: number | null;
  sourceMtimeMs: number | null;
  localHash: string | null;
}

export async function findLedgerEntries(c: pg.Client, key: DriveKey, remotePaths: string[]): Promise<Map<string, LedgerEntry>> {
  const r = await c.query<{ remote_path: string; is_folder: boolean; source_size: string | null; source_mtime_ms: string | null; local_hash: string | null }>(
    query('find-ledger-entries'),
    [key.driveId, key.remoteRoot, remotePaths],
  );
  const out = new Map<string, LedgerEntry>();
  for (const row of r.rows) {
    out.set(row.remote_path, {
      isFolder: row.is_folder,
      sourceSize: row.source_size === null ? null : Number(row.source_size),
      sourceMtimeMs: row.source_mtime_ms === null ? null : Number(row.source_mtime_ms),
      localHash: row.local_hash,
    });
  }
  return out;
}

export async function createStageTable(c: pg.Client): Promise<void> {
  await c.query(query('create-stage-table'));
}

export const copyIntoStageSql = () => query('copy-into-stage');

export interface MergeCounts {
  merged: number;
  inserted: number;
  parents: number;
  parentsBumped: number;
}

/** `parentItemIds`: the distinct parents of the staged rows (see the statement for why it is given). */
export async function mergeStagedFiles(c: pg.Client, parentItemIds: string[]): Promise<MergeCounts> {
  const r = await c.query<{ merged: number; inserted: number; parents: number; parents_bumped: number }>(query('merge-staged-files'), [parentItemIds]);
  const row = r.rows[0];
  return { merged: row.merged, inserted: row.inserted, parents: row.parents, parentsBumped: row.parents_bumped };
}

export interface RunRow {
  importRoot: string;
  driveId: string;
  remoteRoot: string;
  options: Record<string, unknown>;
  host: string;
  pid: number;
  version: string;
}

export async function insertRun(c: pg.Client, run: RunRow): Promise<{ id: number; startedAt: Date }> {
  const r = await c.query<{ id: string; started_at: Date }>(query('insert-run'), [
    run.importRoot, run.driveId, run.remoteRoot, JSON.stringify(run.options), run.host, run.pid, run.version,
  ]);
  return { id: Number(r.rows[0].id), startedAt: r.rows[0].started_at };
}

export async function finishRun(c: pg.Client, runId: number, status: string, counts: Record<string, unknown>): Promise<void> {
  await c.query(query('finish-run'), [runId, status, JSON.stringify(counts)]);
}

export interface FailureRow {
  sourcePath: string;
  stage: string;
  code: string;
  message: string;
}

export async function insertFailures(c: pg.Client, runId: number, failures: FailureRow[]): Promise<void> {
  if (failures.length === 0) return;
  await c.query(query('insert-failures'), [
    runId,
    failures.map((f) => f.sourcePath),
    failures.map((f) => f.stage),
    failures.map((f) => f.code),
    failures.map((f) => f.message),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Upload sessions kept across runs (vmb_upload_sessions). The upload URL is a credential: these
// functions are the only ones that read or write it.

/** One target path's session key. */
export interface UploadSessionKey extends DriveKey {
  remotePath: string;
}

export interface UploadSessionRow extends UploadSessionKey, SavedUploadSession {
  sourcePath: string;
  parentItemId: string;
  name: string;
  runId: number;
}

export async function saveUploadSession(c: pg.Client, s: UploadSessionRow): Promise<void> {
  const f = s.fingerprint;
  await c.query(query('save-upload-session'), [
    s.driveId, s.remoteRoot, s.remotePath, s.sourcePath, s.parentItemId, s.name, s.uploadUrl, new Date(s.expiresAt), s.bytesConfirmed,
    f.size, f.mtimeNs, f.ctimeNs, f.ino, f.dev, s.runId, new Date(s.createdAt),
  ]);
}

export async function updateUploadSession(c: pg.Client, key: UploadSessionKey, uploadUrl: string, progress: { bytesConfirmed: number; expiresAt: number; runId: number }): Promise<void> {
  await c.query(query('update-upload-session'), [key.driveId, key.remoteRoot, key.remotePath, uploadUrl, progress.bytesConfirmed, new Date(progress.expiresAt), progress.runId]);
}

export async function findUploadSession(c: pg.Client, key: UploadSessionKey): Promise<SavedUploadSession | null> {
  const r = await c.query<{
    upload_url: string;
    expires_at: Date;
    created_at: Date;
    bytes_confirmed: string;
    source_size: string;
    source_mtime_ns: string;
    source_ctime_ns: string;
    source_ino: string;
    source_dev: string;
  }>(query('find-upload-session'), [key.driveId, key.remoteRoot, key.remotePath]);
  const row = r.rows[0];
  if (!row) return null;
  return {
    uploadUrl: row.upload_url,
    expiresAt: row.expires_at.getTime(),
    createdAt: row.created_at.getTime(),
    bytesConfirmed: Number(row.bytes_confirmed),
    fingerprint: { size: Number(row.source_size), mtimeNs: row.source_mtime_ns, ctimeNs: row.source_ctime_ns, ino: row.source_ino, dev: row.source_dev },
  };
}

export async function deleteUploadSession(c: pg.Client, key: UploadSessionKey): Promise<void> {
  await c.query(query('delete-upload-session'), [key.driveId, key.remoteRoot, key.remotePath]);
}

/** Inside the group commit's transaction: the sessions of these committed files are done. */
export async function deleteCommittedUploadSessions(c: pg.Client, key: DriveKey, remotePaths: string[]): Promise<void> {
  await c.query(query('delete-committed-upload-sessions'), [key.driveId, key.remoteRoot, remotePaths]);
}

/**
 * Forgets this drive's sessions that are surely gone (expired, or older than `maxAgeMs`) and
 * returns the target paths of the others.
 */
export async function findResumableUploadSessions(c: pg.Client, key: DriveKey, maxAgeMs: number): Promise<Set<string>> {
  const r = await c.query<{ remote_path: string }>(query('find-resumable-upload-sessions'), [key.driveId, key.remoteRoot, maxAgeMs]);
  return new Set(r.rows.map((row) => row.remote_path));
}

/** RU per minute the latest run against `driveId` that ended within `maxAgeMs` had learned, or null. */
export async function findLearnedRate(c: pg.Client, driveId: string, maxAgeMs: number): Promise<number | null> {
  const r = await c.query<{ per_minute: number }>(query('find-learned-rate'), [driveId, maxAgeMs]);
  return r.rows[0]?.per_minute ?? null;
}

// ---------------------------------------------------------------------------------------------
// `vmb-import check`: the stored listing of the drive, its deltaLink, and the fixes.

export async function findDeltaLink(c: pg.Client, key: DriveKey): Promise<string | null> {
  const r = await c.query<{ delta_link: string }>(query('find-delta-link'), [key.driveId, key.remoteRoot]);
  return r.rows[0]?.delta_link ?? null;
}

export async function saveDeltaLink(c: pg.Client, key: DriveKey, deltaLink: string): Promise<void> {
  await c.query(query('save-delta-link'), [key.driveId, key.remoteRoot, deltaLink]);
}

export async function listRemoteItems(c: pg.Client, key: DriveKey): Promise<RemoteItem[]> {
  const r = await c.query<{
    item_id: string;
    parent_item_id: string | null;
    name: string;
    is_folder: boolean;
    size_bytes: string | null;
    content_hash: string | null;
    child_count: number | null;
  }>(query('list-remote-items'), [key.driveId, key.remoteRoot]);
  return r.rows.map((row) => ({
    id: row.item_id,
    parentId: row.parent_item_id,
    name: row.name,
    isFolder: row.is_folder,
    size: row.size_bytes === null ? null : Number(row.size_bytes),
    hash: row.content_hash,
    childCount: row.child_count,
  }));
}

export async function clearRemoteItems(c: pg.Client, key: DriveKey): Promise<void> {
  await c.query(query('clear-remote-items'), [key.driveId, key.remoteRoot]);
}

export async function deleteRemoteItems(c: pg.Client, key: DriveKey, itemIds: string[]): Promise<void> {
  if (itemIds.length > 0) await c.query(query('delete-remote-items'), [key.driveId, key.remoteRoot, itemIds]);
}

export async function upsertRemoteItems(c: pg.Client, key: DriveKey, items: RemoteItem[]): Promise<void> {
  if (items.length === 0) return;
  await c.query(query('upsert-remote-items'), [
    key.driveId,
    key.remoteRoot,
    items.map((i) => i.id),
    items.map((i) => i.parentId),
    items.map((i) => i.name),
    items.map((i) => i.isFolder),
    items.map((i) => i.size),
    items.map((i) => i.hash),
    items.map((i) => i.childCount),
  ]);
}

export async function listCheckRows(c: pg.Client, key: DriveKey): Promise<LedgerItem[]> {
  const r = await c.query<{
    onedrive_item_id: string;
    parent_item_id: string | null;
    name: string;
    remote_path: string;
    is_folder: boolean;
    size_bytes: string | null;
    content_hash: string | null;
    child_count: number;
    source_path: string | null;
  }>(query('list-check-rows'), [key.driveId, key.remoteRoot]);
  return r.rows.map((row) => ({
    itemId: row.onedrive_item_id,
    parentItemId: row.parent_item_id,
    name: row.name,
    remotePath: row.remote_path,
    isFolder: row.is_folder,
    size: row.size_bytes === null ? null : Number(row.size_bytes),
    hash: row.content_hash,
    childCount: row.child_count,
    sourcePath: row.source_path,
  }));
}

/** Returns how many rows went. */
export async function removeItems(c: pg.Client, key: DriveKey, itemIds: string[]): Promise<number> {
  if (itemIds.length === 0) return 0;
  return (await c.query(query('remove-items'), [key.driveId, key.remoteRoot, itemIds])).rowCount ?? 0;
}

export interface ItemPlace {
  itemId: string;
  parentItemId: string | null;
  name: string;
  remotePath: string;
}

/** Returns how many rows moved. */
export async function moveItems(c: pg.Client, key: DriveKey, places: ItemPlace[]): Promise<number> {
  if (places.length === 0) return 0;
  const r = await c.query(query('move-items'), [
    key.driveId,
    key.remoteRoot,
    places.map((p) => p.itemId),
    places.map((p) => p.parentItemId),
    places.map((p) => p.name),
    places.map((p) => p.remotePath),
  ]);
  return r.rowCount ?? 0;
}

/** Returns how many folders were recounted. */
export async function recountChildren(c: pg.Client, key: DriveKey, folderIds: string[]): Promise<number> {
  if (folderIds.length === 0) return 0;
  return (await c.query(query('recount-children'), [key.driveId, key.remoteRoot, folderIds])).rowCount ?? 0;
}

export interface CheckRunRow {
  importRoot: string | null;
  driveId: string;
  remoteRoot: string;
  options: Record<string, unknown>;
  host: string;
  pid: number;
  version: string;
  startedAt: Date;
  status: string;
  counts: Record<string, unknown>;
}

export async function insertCheckRun(c: pg.Client, run: CheckRunRow): Promise<number> {
  const r = await c.query<{ id: string }>(query('insert-check-run'), [
    run.importRoot, run.driveId, run.remoteRoot, JSON.stringify(run.options), run.host, run.pid, run.version, run.startedAt, run.status, JSON.stringify(run.counts),
  ]);
  return Number(r.rows[0].id);
}
