import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freshDatabase, withClient } from '../support/database.js';
import { runCli, runJson, startCli } from '../support/cli.js';
import { assertChildCountsExact, assertLedgerMatchesFiles, items } from '../support/ledger.js';
import { makeTree, tempDir } from '../support/trees.js';
import { createDatabase, installStatementFault, runRow, startOwnServer, summaryCounts, waitFor } from '../support/faults.js';
import { startGraphEmulator, type GraphEmulator } from '../support/graph-emulator/server.js';

let emulator: GraphEmulator;
before(async () => {
  emulator = await startGraphEmulator({ simpleUploadMax: 4 * 1024 * 1024, storeContent: false });
});
after(() => emulator.close());

const faults = [
  ['40001', 'a serialization failure'],
  ['40P01', 'a deadlock'],
  ['57014', 'a statement timeout'],
] as const;

for (const [sqlstate, what] of faults) {
  test(`a ledger write that fails with ${what} (${sqlstate}) on every third INSERT statement is rolled back and retried, and the ledger ends exact`, async (t) => {
    const db = await freshDatabase(`dbfault_${sqlstate}`);
    const src = await tempDir('src');
    const drive = await tempDir('drive');
    const files = await makeTree(src, { corps: [1, 2], folders: ['', 'a', 'a/b', 'c'], filesPerFolder: 75, size: (i) => (i % 50 === 0 ? 0 : 100 + (i % 7)) });
    assert.equal(files.length, 600);
    const migrated = await runCli(['migrate', '--database-url', db.url]);
    assert.equal(migrated.code, 0, migrated.stderr);
    const fault = await installStatementFault(db.url, sqlstate, 3);

    // Small batches: many merge statements (and folder inserts), so many of them meet the fault.
    const r = await runJson([src, '--threads', '8', '--batch-size', '16', '--database-url', db.url, '--local-root', drive]);

    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.summary.status, 'succeeded');
    assert.equal(r.summary.uploaded, files.length);
    assert.equal(r.summary.failed, 0);
    assert.deepEqual(r.summary.failures, []);
    const fired = await fault.fired();
    t.diagnostic(`${sqlstate}: ${fired} of ${await fault.statements()} INSERT statements failed`);
    assert.ok(fired >= 5, `the trigger failed ${fired} INSERT statements (of ${await fault.statements()})`);
    const rows = await items(db.url);
    assert.equal(rows.length, files.length + 8, 'one row per file and per folder, none twice');
    assert.equal(new Set(rows.map((x) => x.onedrive_item_id)).size, rows.length);
    await assertLedgerMatchesFiles(rows, src, files);
    const run = await runRow(db.url, r.summary.runId);
    assert.equal(run.status, 'succeeded');
    assert.deepEqual(run.counts, summaryCounts(r.summary));
  });
}

test('the database server stopped for a few seconds mid-run and started again: the run finishes and the ledger matches the drive exactly', async (t) => {
  const server = await startOwnServer();
  try {
    const url = await createDatabase(server.url, 'restart');
    const src = await tempDir('src');
    const root = '/vmb-db-restart';
    const files = await makeTree(src, { corps: [4, 5], folders: ['', 'x', 'x/y'], filesPerFolder: 50, size: (i) => 10 + (i % 300) });
    assert.equal(files.length, 300);
    emulator.faults.reset();
    emulator.faults.latencyMs = 80;
    const run = startCli(
      [src, '--threads', '4', '--tasks-per-thread', '2', '--batch-size', '8', '--target', 'onedrive', '--graph-url', emulator.url, '--drive-id', emulator.driveId, '--remote-root', root, '--database-url', url, '--json', '--no-progress'],
      { VMB_GRAPH_TOKEN: emulator.token },
    );
    let finished = false;
    void run.done.then(() => (finished = true));
    const fileRows = () => withClient(url, async (c) => Number((await c.query("SELECT count(*) FROM corporate.vmb_items WHERE NOT is_folder")).rows[0].count)).catch(() => 0);
    const runId = await waitFor('a run row', () => withClient(url, async (c) => (await c.query("SELECT id FROM corporate.vmb_import_runs WHERE status = 'running' AND backend_pid IS NOT NULL")).rows[0]?.id).catch(() => undefined), 60_000);
    const lockPidBefore = (await runRow(url, Number(runId))).backend_pid;
    await waitFor('some committed file rows', async () => (await fileRows()) >= 20, 60_000);

    await server.stop();
    const stoppedAt = Date.now();
    assert.ok(!finished, 'the run was still going when the server stopped');
    await sleep(3000);
    await server.start();
    const downMs = Date.now() - stoppedAt;
    const r = await run.done;

    t.diagnostic(`server down for ${downMs} ms; run lasted ${Date.now() - stoppedAt} ms after the stop`);
    let summary: Record<string, any>;
    try {
      summary = JSON.parse(r.stdout);
    } catch {
      throw new Error(`no JSON summary (exit ${r.code}); stderr:\n${r.stderr}`);
    }
    assert.equal(r.code, 0, `exit ${r.code} status ${summary.status} stopReason ${summary.stopReason}; stderr:\n${r.stderr}`);
    assert.equal(summary.status, 'succeeded');
    assert.equal(summary.uploaded, files.length);
    assert.equal(summary.failed, 0);

    const rows = await items(url);
    await assertLedgerMatchesFiles(rows, src, files);
    assert.equal(new Set(rows.map((x) => x.onedrive_item_id)).size, rows.length, 'no item recorded twice');
    for (const row of rows) {
      const item = emulator.itemByPath(`${root}/${row.remote_path}`);
      assert.ok(item, `drive item for ${row.remote_path}`);
      assert.equal(item.id, row.onedrive_item_id, `item id of ${row.remote_path}`);
    }
    const onDrive = emulator.items().filter((i) => i.path.startsWith(`${root}/`));
    assert.equal(onDrive.length, rows.length, 'every item on the drive has its row, and no row lacks its item');
    assertChildCountsExact(rows);

    const runAfter = await runRow(url, summary.runId);
    assert.equal(runAfter.status, 'succeeded');
    assert.deepEqual(runAfter.counts, summaryCounts(summary));
    t.diagnostic(`run-lock backend before the restart ${lockPidBefore}, recorded at the end ${runAfter.backend_pid}; lock re-taken: ${/run lock taken again/.test(r.stderr)}`);
  } finally {
    emulator.faults.reset();
    await server.destroy();
  }
});
