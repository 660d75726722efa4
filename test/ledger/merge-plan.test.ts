import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli, runJson } from '../support/cli.js';
import { freshDatabase, withClient } from '../support/database.js';
import { makeTree, tempDir } from '../support/trees.js';

interface ItemScans {
  seq_scan: number;
  seq_tup_read: number;
  n_tup_ins: number;
}

function itemScans(url: string): Promise<ItemScans> {
  return withClient(url, async (c) => {
    const r = await c.query<ItemScans>(
      `SELECT seq_scan::int, seq_tup_read::int, n_tup_ins::int
       FROM pg_stat_user_tables WHERE schemaname = 'corporate' AND relname = 'vmb_items'`,
    );
    return r.rows[0];
  });
}

/**
 * A backend reports its table counters when it exits, a moment after the run has closed it. The
 * merges' scans are counted by the same backends and statements as the file rows' inserts, so once
 * every insert is reported, so are the scans.
 */
async function reportedScans(url: string, inserts: number): Promise<ItemScans> {
  const deadline = Date.now() + 10_000;
  let scans = await itemScans(url);
  while (scans.n_tup_ins < inserts && Date.now() < deadline) {
    await sleep(100);
    scans = await itemScans(url);
  }
  assert.ok(scans.n_tup_ins >= inserts, `the run's backends reported ${scans.n_tup_ins} of ${inserts} inserts into vmb_items within 10 s`);
  return scans;
}

test('merging a batch reads only its parent folders, not the whole ledger', async (t) => {
  const db = await freshDatabase('merge_plan');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  // Many small batches into few folders: a merge planned as a sequential scan of the ledger reads
  // every row once per batch, which is what made the database's work per file grow with the ledger.
  const files = await makeTree(src, { corps: [4], folders: ['x', 'y'], filesPerFolder: 1000, size: () => 8 });
  const migrated = await runCli(['migrate', '--database-url', db.url]);
  assert.equal(migrated.code, 0, migrated.stderr);
  // Autovacuum visits a new database at an unpredictable moment of the run. Once it has analysed the
  // table, the planning lookup (500 paths) rightly reads a ledger this small sequentially, and a
  // statement planned from guesses may pick index probes: when it came would decide the counters.
  await withClient(db.url, (c) => c.query('ALTER TABLE corporate.vmb_items SET (autovacuum_enabled = false)'));

  const r = await runJson([src, '--threads', '2', '--batch-size', '16', '--database-url', db.url, '--local-root', drive]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.uploaded, files.length);

  const scans = await reportedScans(db.url, files.length);
  t.diagnostic(`vmb_items: ${scans.seq_scan} sequential scans read ${scans.seq_tup_read} rows; ${scans.n_tup_ins} rows inserted`);
  // Index builds of the migration scan the empty table and folder lookups at the start of the run may
  // scan a few rows: legitimately close to 0. Less than one pass over the final ledger in the whole
  // run leaves room for that; a merge that scans the ledger per batch reads it over a hundred times.
  assert.ok(
    scans.seq_tup_read < files.length,
    `sequential scans of vmb_items read ${scans.seq_tup_read} rows in ${scans.seq_scan} scans while importing ${files.length} files ` +
      `in batches of at most 16: some statement reads the whole ledger instead of probing its indexes`,
  );
});
