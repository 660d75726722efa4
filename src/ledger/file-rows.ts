import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { fatal, skip } from '../errors/vmb-error.js';
import type { DriveKey } from '../types.js';
import { copyLine } from './copy-text.js';
import { copyIntoStageSql, createStageTable, deleteCommittedUploadSessions, mergeStagedFiles } from './statements.js';
import type { LedgerConnection } from './connection.js';

/** One file's ledger row, as the worker thread hands it over after a finished upload. */
export interface FileRow {
  corpIndex: number;
  driveId: string;
  remoteRoot: string;
  itemId: string;
  parentItemId: string;
  name: string;
  remotePath: string;
  size: number;
  contentHash: string | null;
  localHash: string;
  sourcePath: string;
  sourceSize: number;
  sourceMtimeMs: number;
  runId: number;
  /** A row in vmb_upload_sessions may exist for this path: deleted in the transaction that commits this one. */
  uploadSession: boolean;
}

/** Each connection gets its staging table once: a replaced connection creates its own again. */
const staged = new WeakSet<pg.Client>();

/**
 * Merge one group-commit batch in one transaction: COPY into the connection's staging table,
 * then one merge statement that also bumps the folders' `child_count`, then (only when some file
 * had one) the deletion of the files' upload sessions, which are done once their rows commit. Returns, per row, undefined
 * when it is committed or the error it failed with. When one row clashes with another path's item
 * (two names that differ only in case map to one OneDrive item), the batch is merged row by row so
 * only that file fails. Idempotent: a retried batch inserts nothing twice.
 */
export async function mergeFileRows(ledger: LedgerConnection, rows: FileRow[]): Promise<unknown[]> {
  try {
    await ledger.run((client) => mergeBatch(client, rows));
    return rows.map(() => undefined);
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    if (rows.length === 1) return [itemConflict(err)];
    const outcomes: unknown[] = [];
    for (const row of rows) outcomes.push(...(await mergeFileRows(ledger, [row])));
    return outcomes;
  }
}

async function mergeBatch(client: pg.Client, rows: FileRow[]): Promise<void> {
  if (!staged.has(client)) {
    await createStageTable(client);
    staged.add(client);
  }
  await client.query('BEGIN');
  // One chunk for the whole batch: pg-copy-streams makes two socket writes of every chunk.
  await pipeline(Readable.from([rows.map(stageLine).join('')]), client.query(copyStreams.from(copyIntoStageSql())));
  const counts = await mergeStagedFiles(client, [...new Set(rows.map((r) => r.parentItemId))]);
  if (counts.merged !== rows.length || counts.parentsBumped !== counts.parents) {
    await client.query('ROLLBACK');
    throw fatal('ledger-inconsistent', `merge touched ${counts.merged} of ${rows.length} rows and ${counts.parentsBumped} of ${counts.parents} parent folders; rolled back`);
  }
  for (const [key, remotePaths] of sessionPathsByDrive(rows)) await deleteCommittedUploadSessions(client, key, remotePaths);
  await client.query('COMMIT');
}

/** The paths of the rows that had an upload session, per drive key (one key per thread in practice). */
function sessionPathsByDrive(rows: FileRow[]): Array<[DriveKey, string[]]> {
  const byKey = new Map<string, [DriveKey, string[]]>();
  for (const r of rows) {
    if (!r.uploadSession) continue;
    const id = `${r.driveId}\0${r.remoteRoot}`;
    let entry = byKey.get(id);
    if (!entry) byKey.set(id, (entry = [{ driveId: r.driveId, remoteRoot: r.remoteRoot }, []]));
    entry[1].push(r.remotePath);
  }
  return [...byKey.values()];
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string })?.code === '23505';
}

function itemConflict(err: unknown) {
  return skip('remote-item-conflict', `the drive item is already recorded for another path (names that differ only in case?): ${(err as Error).message}`);
}

function stageLine(r: FileRow): string {
  return copyLine([
    r.corpIndex, r.driveId, r.remoteRoot, r.itemId, r.parentItemId, r.name, r.remotePath,
    r.size, r.contentHash, r.localHash, r.sourcePath, r.sourceSize, new Date(r.sourceMtimeMs).toISOString(), r.runId,
  ]);
}
