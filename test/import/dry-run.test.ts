import assert from 'node:assert/strict';
import { writeFile, utimes } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { freshDatabase } from '../support/database.js';
import { runJson } from '../support/cli.js';
import { dumpTables } from '../support/ledger.js';
import { makeTree, tempDir } from '../support/trees.js';
import { readdir } from 'node:fs/promises';

test('a dry run classifies new, changed, unchanged and skipped files and writes nothing', async () => {
  const db = await freshDatabase('dry');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const files = await makeTree(src, { corps: [4], folders: ['', 'q'], filesPerFolder: 10 });
  assert.equal((await runJson([src, '--database-url', db.url, '--local-root', drive])).code, 0);
  await writeFile(path.join(src, files[0]), 'changed');
  await utimes(path.join(src, files[0]), new Date(), new Date(Date.now() + 5000));
  await writeFile(path.join(src, '4', 'q', 'brand-new.txt'), 'new');
  await writeFile(path.join(src, 'loose.txt'), 'outside any corp folder');
  const before = await dumpTables(db.url);
  const driveBefore = await readdir(drive, { recursive: true });

  const r = await runJson([src, '--dry-run', '--database-url', db.url, '--local-root', drive]);

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.dryRun, true);
  assert.equal(r.summary.runId, null);
  assert.equal(r.summary.unchanged, files.length - 1);
  assert.equal(r.summary.skipped, 1);
  assert.deepEqual(r.summary.wouldUpload, { files: 2, bytes: 'changed'.length + 'new'.length, folders: 0 });
  const actions = Object.fromEntries(r.summary.plan.map((p: any) => [p.path, p.action]));
  assert.deepEqual(actions, { [files[0]]: 'upload-changed', '4/q/brand-new.txt': 'upload-new', 'loose.txt': 'skip' });
  assert.equal(await dumpTables(db.url), before);
  assert.deepEqual(await readdir(drive, { recursive: true }), driveBefore);
});

test('a dry run against a database without the schema warns, plans everything as new and creates nothing', async () => {
  const db = await freshDatabase('dry_empty');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const files = await makeTree(src, { corps: [8], folders: ['', 'z'], filesPerFolder: 3 });

  const r = await runJson([src, '--dry-run', '--database-url', db.url, '--local-root', drive]);

  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /schema is not installed/);
  assert.equal(r.summary.wouldUpload.files, files.length);
  assert.equal(r.summary.wouldUpload.folders, 2);
  assert.equal(await dumpTables(db.url), 'no schema');
  assert.deepEqual(await readdir(drive), []);
});
