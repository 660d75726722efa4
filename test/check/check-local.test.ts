import assert from 'node:assert/strict';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { DRIFT_CLASS_NAMES } from '../../src/errors/drift-classes.js';
import { runCli, runJson } from '../support/cli.js';
import { freshDatabase, withClient } from '../support/database.js';
import { assertChildCountsExact, items } from '../support/ledger.js';
import { makeTree, tempDir } from '../support/trees.js';

/** `vmb-import check` against the local drive: its folder walked and compared with the ledger. */

interface Imported {
  db: string;
  src: string;
  drive: string;
  files: string[];
}

/** Corp 5 with folders a and b of three files each, imported to a local drive. */
async function imported(label: string): Promise<Imported> {
  const db = (await freshDatabase(label)).url;
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const files = await makeTree(src, { corps: [5], folders: ['a', 'b'], filesPerFolder: 3, size: (i) => 100 + i });
  const r = await runJson([src, '--database-url', db, '--local-root', drive, '--threads', '2']);
  assert.equal(r.code, 0, r.stderr);
  return { db, src, drive, files };
}

const check = (t: Imported, ...args: string[]) => runJson(['check', '--database-url', t.db, '--local-root', t.drive, ...args]);

/** Only the classes named, with these counts; every other class 0. */
function assertCounts(counts: Record<string, number>, expected: Record<string, number>): void {
  assert.deepEqual(counts, Object.fromEntries(DRIFT_CLASS_NAMES.map((c) => [c, expected[c] ?? 0])));
}

test('a check right after an import finds no difference and exits 0', async () => {
  const t = await imported('check_clean');
  const r = await check(t, t.src);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.status, 'clean');
  assertCounts(r.summary.counts, {});
  assert.equal(r.summary.rows, 9, 'the corp folder, two folders, six files');
  assert.equal(r.summary.items, 9);
  assert.equal(r.summary.listing.kind, 'walk');
});

test('a file deleted from the drive is missing-remote, and its folder child-count', async () => {
  const t = await imported('check_deleted');
  await rm(path.join(t.drive, '5/a/file-1.bin'));
  const r = await check(t);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.summary.status, 'drift');
  assertCounts(r.summary.counts, { 'missing-remote': 1, 'child-count': 1 });
  const byClass = Object.fromEntries(r.summary.differences.map((d: any) => [d.class, d]));
  assert.equal(byClass['missing-remote'].path, '5/a/file-1.bin');
  assert.deepEqual([byClass['child-count'].path, byClass['child-count'].ledger, byClass['child-count'].drive], ['5/a', 3, 2]);
});

test('a file put on the drive by someone else is untracked-remote, and its folder child-count', async () => {
  const t = await imported('check_untracked');
  await writeFile(path.join(t.drive, '5/b/stranger.txt'), 'not from the import');
  const r = await check(t);
  assert.equal(r.code, 1, r.stderr);
  assertCounts(r.summary.counts, { 'untracked-remote': 1, 'child-count': 1 });
  assert.ok(r.summary.differences.some((d: any) => d.class === 'untracked-remote' && d.path === '5/b/stranger.txt'));
});

test('a file whose content changed on the drive is changed-remote, by size and by hash', async () => {
  const t = await imported('check_changed');
  await writeFile(path.join(t.drive, '5/a/file-0.bin'), 'shorter');
  const row = (await items(t.db)).find((x) => x.remote_path === '5/b/file-0.bin')!;
  await writeFile(path.join(t.drive, '5/b/file-0.bin'), Buffer.alloc(Number(row.size_bytes), 7));
  const r = await check(t);
  assert.equal(r.code, 1, r.stderr);
  assertCounts(r.summary.counts, { 'changed-remote': 2 });
  const [bySize, byHash] = r.summary.differences;
  assert.deepEqual([bySize.path, bySize.ledger, bySize.drive], ['5/a/file-0.bin', 100, 7]);
  assert.equal(byHash.path, '5/b/file-0.bin');
  assert.equal(byHash.ledger, row.content_hash);
  assert.notEqual(byHash.drive, row.content_hash);
});

test('a file moved on the local drive is another item there: missing-remote at its old path, untracked-remote at its new one', async () => {
  const t = await imported('check_moved_local');
  await rename(path.join(t.drive, '5/a/file-2.bin'), path.join(t.drive, '5/b/file-2-moved.bin'));
  const r = await check(t);
  assert.equal(r.code, 1, r.stderr);
  assertCounts(r.summary.counts, { 'missing-remote': 1, 'untracked-remote': 1, 'child-count': 2 });
});

test("a folder row whose child_count differs from the drive's folder is child-count", async () => {
  const t = await imported('check_count');
  await withClient(t.db, (c) => c.query("UPDATE corporate.vmb_items SET child_count = 7 WHERE remote_path = '5/b'"));
  const r = await check(t);
  assert.equal(r.code, 1, r.stderr);
  assertCounts(r.summary.counts, { 'child-count': 1 });
  assert.deepEqual(r.summary.differences.map((d: any) => [d.path, d.ledger, d.drive]), [['5/b', 7, 3]]);
});

test('a source file gone from the import directory is missing-local, which alone is no drift (exit 0)', async () => {
  const t = await imported('check_missing_local');
  await rm(path.join(t.src, '5/b/file-1.bin'));
  const r = await check(t, t.src);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.status, 'clean');
  assertCounts(r.summary.counts, { 'missing-local': 1 });
  assert.deepEqual(r.summary.differences.map((d: any) => [d.class, d.path, d.ledger]), [['missing-local', '5/b/file-1.bin', '5/b/file-1.bin']]);
  assert.equal((await check(t)).summary.counts['missing-local'], 0, 'without the source tree nothing is looked for there');
});

test('--fix removes the rows of files gone from the drive; check is then clean, and the next import uploads exactly those files', async () => {
  const t = await imported('check_fix_local');
  await rm(path.join(t.drive, '5/a/file-1.bin'));
  await rm(path.join(t.drive, '5/b'), { recursive: true });

  const fixed = await check(t, '--fix');
  assert.equal(fixed.code, 0, fixed.stderr);
  assert.equal(fixed.summary.status, 'fixed');
  assertCounts(fixed.summary.counts, { 'missing-remote': 5, 'child-count': 2 });
  assert.deepEqual(fixed.summary.fixed, { rowsRemoved: 5, rowsMoved: 0, foldersRecounted: 2, left: [] });
  assertCounts(fixed.summary.remaining, {});
  const rows = await items(t.db);
  assert.deepEqual(rows.map((x) => x.remote_path), ['5', '5/a', '5/a/file-0.bin', '5/a/file-2.bin']);
  assertChildCountsExact(rows);

  const again = await check(t);
  assert.equal(again.code, 0, again.stderr);
  assertCounts(again.summary.counts, {});

  const reimport = await runJson([t.src, '--database-url', t.db, '--local-root', t.drive, '--threads', '2']);
  assert.equal(reimport.code, 0, reimport.stderr);
  assert.equal(reimport.summary.uploaded, 4, '5/a/file-1.bin and the three files of 5/b');
  assert.equal(reimport.summary.unchanged, 2);
  assertChildCountsExact(await items(t.db));
  assertCounts((await check(t, t.src)).summary.counts, {});
});

test('--fix --dry-run shows what --fix would do and changes nothing, nor records a run', async () => {
  const t = await imported('check_dry');
  await rm(path.join(t.drive, '5/a/file-1.bin'));
  const before = await items(t.db);

  const r = await check(t, '--fix', '--dry-run');
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.summary.runId, null);
  assert.deepEqual(r.summary.fixed, { rowsRemoved: 1, rowsMoved: 0, foldersRecounted: 1, left: [] });
  assert.equal(r.summary.remaining, null);
  assert.deepEqual(await items(t.db), before);
  const runs = JSON.parse((await runCli(['runs', '--database-url', t.db, '--json'])).stdout);
  assert.deepEqual(runs.map((x: any) => x.kind), ['import']);
});

test('a check is a run of kind check in the history, with its counts per drift class', async () => {
  const t = await imported('check_history');
  await rm(path.join(t.drive, '5/a/file-1.bin'));
  const r = await check(t, '--fix');

  const runs = JSON.parse((await runCli(['runs', '--database-url', t.db, '--json'])).stdout);
  assert.deepEqual(runs.map((x: any) => [x.id, x.kind]), [[r.summary.runId, 'check'], [runs[1].id, 'import']]);
  assert.equal(runs[0].importRoot, null);
  const text = (await runCli(['runs', '--database-url', t.db])).stdout.split('\n');
  assert.match(text[1], new RegExp(`^\\s*${r.summary.runId}\\s+check\\s`));
  const counts = await withClient(t.db, async (c) => (await c.query('SELECT counts, options FROM corporate.vmb_import_runs WHERE id = $1', [r.summary.runId])).rows[0]);
  assert.deepEqual(counts.counts.drift, r.summary.counts);
  assert.equal(counts.counts.fixed.rowsRemoved, 1);
  assert.equal(counts.options.fix, true);
});

test('the text report names each difference, and what --fix changed', async () => {
  const t = await imported('check_text');
  await rm(path.join(t.drive, '5/a/file-1.bin'));
  const r = await runCli(['check', '--database-url', t.db, '--local-root', t.drive, '--fix', '--no-progress']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^check \d+ fixed in [\d.]+s: 9 rows against 8 items on local folder /);
  assert.match(r.stdout, /\n1 missing-remote, 1 child-count\n/);
  assert.match(r.stdout, /\n {2}missing-remote 5\/a\/file-1\.bin\n/);
  assert.match(r.stdout, /\n {2}child-count 5\/a: ledger 3, drive 2\n/);
  assert.match(r.stdout, /\n--fix removed 1 rows, moved 0, recounted 1 folders; nothing on the drive was changed\nafter --fix: no differences\n$/);
});

test('--metrics-file records the drift a check found by class, and a clean check as its last success', async () => {
  const t = await imported('check_metrics');
  const file = path.join(await tempDir('textfile'), 'vmb-import.prom');
  await rm(path.join(t.drive, '5/a/file-1.bin'));

  const drifted = await check(t, '--metrics-file', file);
  assert.equal(drifted.code, 1, drifted.stderr);
  const afterDrift = await readFile(file, 'utf8');
  assert.match(afterDrift, /^vmb_import_drift_items\{command="check",class="missing-remote"\} 1$/m);
  assert.match(afterDrift, /^vmb_import_drift_items\{command="check",class="child-count"\} 1$/m);
  assert.match(afterDrift, /^vmb_import_last_success_timestamp_seconds\{command="check"\} 0$/m, 'drift found is no success');

  assert.equal((await check(t, '--fix', '--metrics-file', file)).code, 0);
  const afterFix = await readFile(file, 'utf8');
  assert.match(afterFix, /^vmb_import_drift_items\{command="check",class="missing-remote"\} 0$/m);
  assert.doesNotMatch(afterFix, /^vmb_import_last_success_timestamp_seconds\{command="check"\} 0$/m);
});
