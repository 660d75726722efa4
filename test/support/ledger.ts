import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { quickXorHashBase64 } from '../../src/hash/quickxorhash.js';
import { withClient } from './database.js';

export interface ItemRow {
  id: string;
  corp_index: number;
  onedrive_item_id: string;
  parent_item_id: string | null;
  name: string;
  remote_path: string;
  is_folder: boolean;
  size_bytes: string | null;
  content_hash: string | null;
  local_hash: string | null;
  source_path: string | null;
  source_size: string | null;
  child_count: number;
  updated_at: Date;
}

export function items(url: string): Promise<ItemRow[]> {
  return withClient(url, async (c) => (await c.query<ItemRow>('SELECT * FROM corporate.vmb_items ORDER BY remote_path')).rows);
}

/** Every folder's child_count equals the number of rows whose parent it is. */
export function assertChildCountsExact(rows: ItemRow[]): void {
  const children = new Map<string, number>();
  for (const r of rows) if (r.parent_item_id) children.set(r.parent_item_id, (children.get(r.parent_item_id) ?? 0) + 1);
  for (const r of rows) {
    if (r.is_folder) assert.equal(r.child_count, children.get(r.onedrive_item_id) ?? 0, `child_count of ${r.remote_path}`);
    else assert.equal(r.child_count, 0, `child_count of file ${r.remote_path}`);
  }
  const ids = new Set(rows.map((r) => r.onedrive_item_id));
  for (const r of rows) if (r.parent_item_id) assert.ok(ids.has(r.parent_item_id), `parent of ${r.remote_path} has a row`);
}

/**
 * The ledger holds exactly the given files (and their folders), each row's size and hash match the
 * file on disk, and every parent link matches the path.
 */
export async function assertLedgerMatchesFiles(rows: ItemRow[], sourceRoot: string, files: string[], remotePathOf: (rel: string) => string = (r) => r): Promise<void> {
  const byPath = new Map(rows.map((r) => [r.remote_path, r]));
  const fileRows = rows.filter((r) => !r.is_folder);
  assert.equal(fileRows.length, files.length, 'one row per file');
  for (const rel of files) {
    const row = byPath.get(remotePathOf(rel));
    assert.ok(row, `row for ${rel}`);
    const bytes = await readFile(path.join(sourceRoot, rel));
    assert.equal(Number(row.size_bytes), bytes.length, `size of ${rel}`);
    assert.equal(Number(row.source_size), bytes.length, `source size of ${rel}`);
    assert.equal(row.local_hash, quickXorHashBase64(bytes), `hash of ${rel}`);
    assert.equal(row.content_hash, row.local_hash, `remote hash of ${rel}`);
    assert.equal(row.source_path, rel);
    const parentPath = row.remote_path.slice(0, row.remote_path.lastIndexOf('/'));
    assert.equal(row.parent_item_id, byPath.get(parentPath)?.onedrive_item_id, `parent of ${rel}`);
  }
  for (const r of rows.filter((x) => x.is_folder)) {
    const slash = r.remote_path.lastIndexOf('/');
    if (slash < 0) assert.equal(r.parent_item_id, null, `corp root ${r.remote_path} has no parent`);
    else assert.equal(r.parent_item_id, byPath.get(r.remote_path.slice(0, slash))?.onedrive_item_id, `parent of folder ${r.remote_path}`);
  }
  assertChildCountsExact(rows);
}

/** A full, ordered dump of the three tables, to compare before/after. */
export function dumpTables(url: string): Promise<string> {
  return withClient(url, async (c) => {
    const exists = (await c.query("SELECT to_regclass('corporate.vmb_items') AS t")).rows[0].t;
    if (!exists) return 'no schema';
    const parts: string[] = [];
    for (const t of ['vmb_import_runs', 'vmb_items', 'vmb_import_failures', 'vmb_schema_migrations']) {
      const r = await c.query(`SELECT * FROM corporate.${t} ORDER BY 1`);
      parts.push(JSON.stringify(r.rows));
    }
    return parts.join('\n');
  });
}
