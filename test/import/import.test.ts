import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { freshDatabase } from '../support/database.js';
import { runJson } from '../support/cli.js';
import { assertLedgerMatchesFiles, items } from '../support/ledger.js';
import { makeTree, tempDir } from '../support/trees.js';

const folders = ['', 'a', 'a/b', 'a/b/c', 'd', 'd/e'];

for (const threads of [1, 8]) {
  test(`an import at ${threads} thread(s) records every file and folder with its exact size, hash and parent`, async () => {
    const db = await freshDatabase(`import_${threads}`);
    const src = await tempDir('src');
    const drive = await tempDir('drive');
    const files = await makeTree(src, { corps: [7, 1042], folders, filesPerFolder: 25 });

    const r = await runJson([src, '--threads', String(threads), '--database-url', db.url, '--local-root', drive]);

    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.summary.status, 'succeeded');
    assert.equal(r.summary.uploaded, files.length);
    assert.equal(r.summary.failed, 0);
    assert.equal(r.summary.foldersCreated, 2 * folders.length);
    const rows = await items(db.url);
    assert.equal(rows.filter((x) => x.is_folder).length, 2 * folders.length);
    await assertLedgerMatchesFiles(rows, src, files);
    for (const rel of files) {
      assert.deepEqual(await readFile(path.join(drive, rel)), await readFile(path.join(src, rel)), `uploaded copy of ${rel}`);
    }
  });
}

test('child_count is exact at 8 threads when many files share the same folders', async () => {
  const db = await freshDatabase('child_count');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const files = await makeTree(src, { corps: [5], folders: ['', 'x', 'y'], filesPerFolder: 400, size: () => 16 });

  // Small batches and many tasks per thread: many concurrent transactions bump the same folder rows.
  const r = await runJson([src, '--threads', '8', '--tasks-per-thread', '8', '--batch-size', '4', '--database-url', db.url, '--local-root', drive]);

  assert.equal(r.code, 0, r.stderr);
  const rows = await items(db.url);
  await assertLedgerMatchesFiles(rows, src, files);
  const count = (p: string) => rows.find((x) => x.remote_path === p)!.child_count;
  assert.equal(count('5'), 400 + 2);
  assert.equal(count('5/x'), 400);
  assert.equal(count('5/y'), 400);
});

test('a second run over the same tree uploads nothing and leaves every row untouched', async () => {
  const db = await freshDatabase('rerun');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const files = await makeTree(src, { corps: [3], folders: ['', 'p'], filesPerFolder: 30 });
  const args = [src, '--threads', '4', '--database-url', db.url, '--local-root', drive];
  assert.equal((await runJson(args)).code, 0);
  const before = await items(db.url);

  const again = await runJson(args);

  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.summary.uploaded, 0);
  assert.equal(again.summary.unchanged, files.length);
  assert.equal(again.summary.foldersCreated, 0);
  assert.deepEqual(await items(db.url), before);
});

test('a changed file is uploaded again and its row updated in place, keeping its item id', async () => {
  const db = await freshDatabase('changed');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const files = await makeTree(src, { corps: [3], folders: [''], filesPerFolder: 5 });
  const args = [src, '--database-url', db.url, '--local-root', drive];
  assert.equal((await runJson(args)).code, 0);
  const before = await items(db.url);
  const { writeFile, utimes } = await import('node:fs/promises');
  await writeFile(path.join(src, files[0]), 'new content, new size');
  await utimes(path.join(src, files[0]), new Date(), new Date(Date.now() + 5000));

  const r = await runJson(args);

  assert.equal(r.summary.uploaded, 1);
  assert.equal(r.summary.unchanged, files.length - 1);
  const after = await items(db.url);
  assert.equal(after.length, before.length);
  const row = after.find((x) => x.remote_path === files[0])!;
  assert.equal(row.onedrive_item_id, before.find((x) => x.remote_path === files[0])!.onedrive_item_id);
  await assertLedgerMatchesFiles(after, src, files);
});

test('files outside a corp folder are reported as skipped with the reason, and --corp imports them', async () => {
  const db = await freshDatabase('corp');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const { mkdir, writeFile } = await import('node:fs/promises');
  await writeFile(path.join(src, 'loose.txt'), 'x');
  await mkdir(path.join(src, 'not-a-number'));
  await writeFile(path.join(src, 'not-a-number', 'f.txt'), 'y');
  await mkdir(path.join(src, '12'));
  await writeFile(path.join(src, '12', 'ok.txt'), 'z');

  const r = await runJson([src, '--database-url', db.url, '--local-root', drive]);

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.uploaded, 1);
  assert.equal(r.summary.skipped, 2);
  const reasons = Object.fromEntries(r.summary.failures.map((f: any) => [f.path, f.code]));
  assert.deepEqual(reasons, { 'loose.txt': 'outside-corp-folder', 'not-a-number/f.txt': 'no-corp-folder' });

  const withCorp = await runJson([src, '--corp', '99', '--database-url', db.url, '--local-root', drive]);
  assert.equal(withCorp.code, 0, withCorp.stderr);
  assert.equal(withCorp.summary.uploaded, 3);
  const rows = await items(db.url);
  assert.ok(rows.some((x) => x.remote_path === '99/not-a-number/f.txt' && x.corp_index === 99));
  assert.ok(rows.some((x) => x.remote_path === '99/loose.txt'));
});
