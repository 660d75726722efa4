import type pg from 'pg';
import type { DriveKey } from '../types.js';
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
