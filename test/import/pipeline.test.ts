import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freshDatabase } from '../support/database.js';
import { runJson, startCli } from '../support/cli.js';
import { assertChildCountsExact, assertLedgerMatchesFiles, items } from '../support/ledger.js';
import { makeTree, tempDir } from '../support/trees.js';

async function filesIn(dir: string): Promise<number> {
  try {
    return (await readdir(dir)).filter((n) => n.startsWith('file-')).length;
  } catch {
    return 0;
  }
}

test('uploads go on while finished files wait for their commit, and every row lands once the database lets go', async (t) => {
  const db = await freshDatabase('pipeline');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  await makeTree(src, { corps: [5], folders: ['a'], filesPerFolder: 1, size: () => 10 });
  const first = await runJson([src, '--database-url', db.url, '--local-root', drive]);
  assert.equal(first.code, 0, first.stderr);

  const more: string[] = [];
  for (let i = 0; i < 40; i++) {
    const rel = `5/a/file-more-${i}.bin`;
    await writeFile(path.join(src, rel), `content ${i}`);
    more.push(rel);
  }
  // Every batch of file rows bumps the folder's child_count, so a lock on the folder's row holds
  // back every commit of this run while the uploads themselves need nothing from the database.
  const locker = new pg.Client({ connectionString: db.url });
  locker.on('error', () => undefined);
  await locker.connect();
  t.after(() => locker.end().catch(() => undefined));
  await locker.query('BEGIN');
  await locker.query(`SELECT 1 FROM corporate.vmb_items WHERE remote_path = '5/a' AND is_folder FOR UPDATE`);

  const run = startCli([src, '--threads', '1', '--tasks-per-thread', '2', '--database-url', db.url, '--local-root', drive, '--json', '--no-progress']);
  const uploadedDir = path.join(drive, '5', 'a');
  const deadline = Date.now() + 30_000;
  while ((await filesIn(uploadedDir)) < 41 && Date.now() < deadline) await sleep(25);
  const rowsWhileLocked = (await items(db.url)).filter((x) => !x.is_folder).length;
  assert.equal(await filesIn(uploadedDir), 41, 'all 40 new files were uploaded while no commit could finish (2 uploads at a time)');
  assert.equal(rowsWhileLocked, 1, 'none of their rows was committed yet');

  await locker.query('ROLLBACK');
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.uploaded, 40);
  assert.equal(summary.unchanged, 1);
  const rows = await items(db.url);
  await assertLedgerMatchesFiles(rows, src, ['5/a/file-0.bin', ...more]);
  assertChildCountsExact(rows);
  assert.equal(rows.find((x) => x.remote_path === '5/a')!.child_count, 41);
});
