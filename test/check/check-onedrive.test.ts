import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { DRIFT_CLASS_NAMES } from '../../src/errors/drift-classes.js';
import { runCli, runJson } from '../support/cli.js';
import { freshDatabase, withClient } from '../support/database.js';
import { call, mkdir, upload } from '../support/graph-emulator-calls.js';
import { startGraphEmulator, type EmulatorOptions, type GraphEmulator } from '../support/graph-emulator/server.js';
import { assertChildCountsExact, items } from '../support/ledger.js';
import { makeTree, tempDir } from '../support/trees.js';

/** `vmb-import check` against OneDrive: the emulator's delta feed, from the drive's root, filtered to the remote root. */

const ROOT = '/vmb-check';

interface Imported {
  graph: GraphEmulator;
  db: string;
  src: string;
  files: string[];
}

/**
 * A drive with a folder outside the remote root, and corp 7 with folders a and b of three files
 * each imported below it; an emulator and a database of its own.
 */
async function imported(t: TestContext, label: string, options: EmulatorOptions = {}, spec = { folders: ['a', 'b'], filesPerFolder: 3 }): Promise<Imported> {
  const graph = await startGraphEmulator(options);
  t.after(() => graph.close());
  const outside = await mkdir(graph, graph.rootId, 'elsewhere');
  await upload(graph, outside.id, 'not-ours.txt', Buffer.from('outside the remote root'));
  const db = (await freshDatabase(label)).url;
  const src = await tempDir('src');
  const files = await makeTree(src, { corps: [7], ...spec, size: (i) => 100 + i });
  const r = await runJson([src, ...target(graph, db), '--threads', '2'], env(graph));
  assert.equal(r.code, 0, r.stderr);
  return { graph, db, src, files };
}

const target = (graph: GraphEmulator, db: string) => ['--target', 'onedrive', '--graph-url', graph.url, '--drive-id', graph.driveId, '--remote-root', ROOT, '--database-url', db];
const env = (graph: GraphEmulator) => ({ VMB_GRAPH_TOKEN: graph.token });
const check = (t: Imported, ...args: string[]) => runJson(['check', ...target(t.graph, t.db), ...args], env(t.graph));

function idOf(graph: GraphEmulator, remotePath: string): string {
  const item = graph.itemByPath(`${ROOT}/${remotePath}`);
  assert.ok(item, remotePath);
  return item.id;
}

async function patch(graph: GraphEmulator, remotePath: string, body: unknown): Promise<void> {
  const res = await call(graph, 'PATCH', `/items/${idOf(graph, remotePath)}`, body);
  assert.equal(res.status, 200, await res.text());
}

async function remove(graph: GraphEmulator, remotePath: string): Promise<void> {
  assert.equal((await call(graph, 'DELETE', `/items/${idOf(graph, remotePath)}`)).status, 204);
}

function assertCounts(counts: Record<string, number>, expected: Record<string, number>): void {
  assert.deepEqual(counts, Object.fromEntries(DRIFT_CLASS_NAMES.map((c) => [c, expected[c] ?? 0])));
}

const pick = (r: { summary: Record<string, any> }) => r.summary.differences.map((d: any) => [d.class, d.path, d.ledger, d.drive]);

test('a check after an import lists the whole drive by delta from its root, keeps what is below the remote root, and finds no difference', async (t) => {
  const x = await imported(t, 'od_clean');
  const r = await check(x);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.status, 'clean');
  assertCounts(r.summary.counts, {});
  assert.equal(r.summary.rows, 9);
  assert.equal(r.summary.items, 9, 'the folder outside the remote root is not compared');
  assert.equal(r.summary.listing.kind, 'full');
  assert.equal(x.graph.delta.counts.fullEnumerations, 1);
  assert.ok(x.graph.requests().some((q) => q.method === 'GET' && q.path.endsWith(`/drives/${x.graph.driveId}/root/delta`)));
});

test('an item deleted on the drive is missing-remote, and its folder child-count', async (t) => {
  const x = await imported(t, 'od_deleted');
  await remove(x.graph, '7/a/file-1.bin');
  const r = await check(x);
  assert.equal(r.code, 1, r.stderr);
  assertCounts(r.summary.counts, { 'missing-remote': 1, 'child-count': 1 });
  assert.deepEqual(pick(r), [['child-count', '7/a', 3, 2], ['missing-remote', '7/a/file-1.bin', undefined, undefined]]);
});

test('an item renamed on the drive is renamed', async (t) => {
  const x = await imported(t, 'od_renamed');
  await patch(x.graph, '7/a/file-0.bin', { name: 'renamed.bin' });
  const r = await check(x);
  assert.equal(r.code, 1, r.stderr);
  assertCounts(r.summary.counts, { renamed: 1 });
  assert.deepEqual(pick(r), [['renamed', '7/a/file-0.bin', 'file-0.bin', 'renamed.bin']]);
});

test('an item moved to another folder on the drive is moved, and both folders child-count', async (t) => {
  const x = await imported(t, 'od_moved');
  await patch(x.graph, '7/a/file-0.bin', { parentReference: { id: idOf(x.graph, '7') } });
  const r = await check(x);
  assert.equal(r.code, 1, r.stderr);
  assertCounts(r.summary.counts, { moved: 1, 'child-count': 2 });
  assert.deepEqual(pick(r), [['child-count', '7', 2, 3], ['child-count', '7/a', 3, 2], ['moved', '7/a/file-0.bin', '7/a', '7']]);
});

test('an item moved out of the remote root is missing-remote, though it is still on the drive', async (t) => {
  const x = await imported(t, 'od_moved_out');
  const elsewhere = x.graph.itemByPath('/elsewhere')!;
  await patch(x.graph, '7/b/file-2.bin', { parentReference: { id: elsewhere.id } });
  const r = await check(x);
  assertCounts(r.summary.counts, { 'missing-remote': 1, 'child-count': 1 });
});

test('a file whose content someone replaced on the drive is changed-remote', async (t) => {
  const x = await imported(t, 'od_changed');
  x.graph.rewriteFile(idOf(x.graph, '7/b/file-0.bin'), Buffer.from('other content'));
  const r = await check(x);
  assert.equal(r.code, 1, r.stderr);
  assertCounts(r.summary.counts, { 'changed-remote': 1 });
  assert.deepEqual(pick(r), [['changed-remote', '7/b/file-0.bin', 103, 13]]);
});

test('a file SharePoint rewrote at upload time is not drift: the row holds what the upload answered', async (t) => {
  const x = await imported(t, 'od_rewrite', { rewriteExtensions: ['.pdf'] });
  await writeFile(path.join(x.src, '7/a/report.pdf'), 'a pdf, rewritten by the drive');
  assert.equal((await runJson([x.src, ...target(x.graph, x.db)], env(x.graph))).code, 0);
  const row = (await items(x.db)).find((r) => r.remote_path === '7/a/report.pdf')!;
  assert.notEqual(row.content_hash, row.local_hash, 'the drive rewrote it');
  const r = await check(x);
  assert.equal(r.code, 0, r.stderr);
  assertCounts(r.summary.counts, {});
});

test('an item put below the remote root by someone else is untracked-remote, and its folder child-count', async (t) => {
  const x = await imported(t, 'od_untracked');
  const folder = await mkdir(x.graph, idOf(x.graph, '7/b'), 'theirs');
  await upload(x.graph, folder.id, 'their-file.txt', Buffer.from('theirs'));
  const r = await check(x);
  assert.equal(r.code, 1, r.stderr);
  assertCounts(r.summary.counts, { 'untracked-remote': 2, 'child-count': 1 });
  assert.deepEqual(pick(r), [['child-count', '7/b', 3, 4], ['untracked-remote', '7/b/theirs', undefined, undefined], ['untracked-remote', '7/b/theirs/their-file.txt', undefined, undefined]]);
});

test('a source file gone from the import directory given is missing-local', async (t) => {
  const x = await imported(t, 'od_missing_local');
  await rm(path.join(x.src, '7/a/file-2.bin'));
  const r = await runJson(['check', x.src, ...target(x.graph, x.db)], env(x.graph));
  assert.equal(r.code, 0, r.stderr);
  assertCounts(r.summary.counts, { 'missing-local': 1 });
  assert.equal(r.summary.sourceRoot, x.src);
});

test('a second check asks Graph only for the changes since the stored deltaLink, and still compares every row', async (t) => {
  const x = await imported(t, 'od_incremental', { deltaPageSize: 4 });
  const first = await check(x);
  assert.equal(first.summary.listing.kind, 'full');
  assert.equal(first.summary.listing.itemsReceived, 13, 'the drive root, the folder outside and its file, the remote root and the nine items below it');
  assert.equal(first.summary.listing.pages, 4);
  await patch(x.graph, '7/b/file-1.bin', { name: 'new-name.bin' });
  const before = { ...x.graph.delta.counts };
  x.graph.resetRequests();

  const second = await check(x);
  assert.equal(second.code, 1, second.stderr);
  assert.equal(second.summary.listing.kind, 'incremental');
  assert.deepEqual(
    { full: x.graph.delta.counts.fullEnumerations - before.fullEnumerations, incremental: x.graph.delta.counts.incrementalEnumerations - before.incrementalEnumerations, pages: x.graph.delta.counts.pages - before.pages },
    { full: 0, incremental: 1, pages: 2 },
  );
  assert.equal(second.summary.listing.itemsReceived, 5, 'the renamed file and the folders above it: 7/b, 7, the remote root and the drive root');
  assert.equal(x.graph.requests().filter((q) => q.path.endsWith('/delta')).length, 2, 'five items, four to a page');
  assert.equal(second.summary.rows, 9);
  assert.equal(second.summary.items, 9);
  assertCounts(second.summary.counts, { renamed: 1 });

  const third = await check(x);
  assert.equal(third.summary.listing.itemsReceived, 0, 'nothing changed since');
  assertCounts(third.summary.counts, { renamed: 1 });
});

test('a deltaLink the feed no longer knows (410 resyncRequired) is answered by a full enumeration', async (t) => {
  const x = await imported(t, 'od_resync');
  assert.equal((await check(x)).summary.listing.kind, 'full');
  await remove(x.graph, '7/a/file-0.bin');
  x.graph.delta.invalidateTokens();
  const full = x.graph.delta.counts.fullEnumerations;

  const r = await check(x);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.summary.listing.kind, 'full');
  assert.equal(r.summary.listing.resyncs, 1);
  assert.equal(x.graph.delta.counts.resyncs, 1);
  assert.equal(x.graph.delta.counts.fullEnumerations, full + 1);
  assertCounts(r.summary.counts, { 'missing-remote': 1, 'child-count': 1 });
  assert.equal((await check(x)).summary.listing.kind, 'incremental', 'the new deltaLink is kept');
});

test('a delta feed that keeps failing ends the check with one line and exit 3, recording nothing', async (t) => {
  const x = await imported(t, 'od_failing');
  x.graph.faults.failNext({ count: 100, status: 500, match: (q) => q.path.endsWith('/delta') });
  const r = await runCli(['check', ...target(x.graph, x.db), '--retries', '1', '--no-progress', '--log-level', 'error'], env(x.graph));
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /^vmb-import: cannot list OneDrive drive .*HTTP 500.*\n$/);
  const runs = await withClient(x.db, async (c) => (await c.query("SELECT count(*)::int AS n FROM corporate.vmb_import_runs WHERE kind = 'check'")).rows[0].n);
  assert.equal(runs, 0);
});

test('--fix makes rows follow moved and renamed items (a moved folder with its descendants), removes those of deleted items, with exact counts; check is then clean', async (t) => {
  const x = await imported(t, 'od_fix', {}, { folders: ['a', 'b', 'c', 'c/d'], filesPerFolder: 2 });
  await remove(x.graph, '7/a/file-1.bin');
  await patch(x.graph, '7/b/file-0.bin', { name: 'b-renamed.bin' });
  await patch(x.graph, '7/c', { parentReference: { id: idOf(x.graph, '7/b') } });
  await patch(x.graph, '7/a/file-0.bin', { parentReference: { id: idOf(x.graph, '7/b') }, name: 'from-a.bin' });

  const r = await check(x, '--fix');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.status, 'fixed');
  assertCounts(r.summary.counts, { 'missing-remote': 1, moved: 2, renamed: 2, 'child-count': 3 });
  assert.deepEqual(r.summary.fixed, { rowsRemoved: 1, rowsMoved: 8, foldersRecounted: 3, left: [] });
  assertCounts(r.summary.remaining, {});

  const rows = await items(x.db);
  assertChildCountsExact(rows);
  const byId = new Map(rows.map((row) => [row.onedrive_item_id, row]));
  const onDrive = x.graph.items();
  const below = onDrive.filter((i) => i.path.startsWith(`${ROOT}/`));
  for (const item of below) {
    const row = byId.get(item.id);
    assert.ok(row, item.path);
    assert.equal(`${ROOT}/${row.remote_path}`, item.path, "every row has its item's path");
    assert.equal(row.name, item.name);
    if (row.is_folder) assert.equal(row.child_count, onDrive.filter((i) => i.parentId === item.id).length, item.path);
  }
  assert.equal(rows.length, below.length);
  const again = await check(x);
  assert.equal(again.code, 0, again.stderr);
  assertCounts(again.summary.counts, {});
});

test('--fix never changes the drive, and the next import uploads exactly the files whose items were deleted', async (t) => {
  const x = await imported(t, 'od_fix_reimport');
  await remove(x.graph, '7/a/file-1.bin');
  await remove(x.graph, '7/b');
  x.graph.resetRequests();

  const r = await check(x, '--fix');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.summary.fixed, { rowsRemoved: 5, rowsMoved: 0, foldersRecounted: 2, left: [] });
  assert.deepEqual(x.graph.requests().filter((q) => q.method !== 'GET').map((q) => `${q.method} ${q.path}`), []);
  assertChildCountsExact(await items(x.db));

  const reimport = await runJson([x.src, ...target(x.graph, x.db)], env(x.graph));
  assert.equal(reimport.code, 0, reimport.stderr);
  assert.equal(reimport.summary.uploaded, 4, '7/a/file-1.bin and the three files of 7/b');
  assert.equal(reimport.summary.unchanged, 2);
  assert.equal(reimport.summary.foldersCreated, 1);
  assertChildCountsExact(await items(x.db));
  const after = await runJson(['check', x.src, ...target(x.graph, x.db)], env(x.graph));
  assert.equal(after.code, 0, after.stderr);
  assertCounts(after.summary.counts, {});
});

test('--dry-run writes nothing: neither the rows, nor the listing and its deltaLink, nor a run', async (t) => {
  const x = await imported(t, 'od_dry');
  await remove(x.graph, '7/a/file-1.bin');
  const before = await items(x.db);
  const dry = await check(x, '--fix', '--dry-run');
  assert.equal(dry.code, 1, dry.stderr);
  assert.deepEqual(dry.summary.fixed, { rowsRemoved: 1, rowsMoved: 0, foldersRecounted: 1, left: [] });
  assert.deepEqual(await items(x.db), before);
  const stored = await withClient(x.db, async (c) => (await c.query('SELECT (SELECT count(*) FROM corporate.vmb_delta_links)::int AS links, (SELECT count(*) FROM corporate.vmb_remote_items)::int AS listed')).rows[0]);
  assert.deepEqual(stored, { links: 0, listed: 0 });
  assert.equal((await check(x)).summary.listing.kind, 'full');
});
