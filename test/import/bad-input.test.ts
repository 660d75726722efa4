import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, open, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { freshDatabase } from '../support/database.js';
import { runCli, runJson, startCli } from '../support/cli.js';
import { assertChildCountsExact, assertLedgerMatchesFiles, dumpTables, items, type ItemRow } from '../support/ledger.js';
import { makeTree, tempDir } from '../support/trees.js';
import { failureRows, sampleRss } from '../support/faults.js';
import { startGraphEmulator, type GraphEmulator } from '../support/graph-emulator/server.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

let emulator: GraphEmulator;
before(async () => {
  emulator = await startGraphEmulator({ simpleUploadMax: 4 * MiB, storeContent: true });
});
after(() => emulator.close());
beforeEach(() => emulator.faults.reset());

const onedrive = (db: string, root: string, graph: GraphEmulator = emulator) => ['--target', 'onedrive', '--graph-url', graph.url, '--drive-id', graph.driveId, '--remote-root', root, '--database-url', db];
const env = (graph: GraphEmulator = emulator) => ({ VMB_GRAPH_TOKEN: graph.token });
const local = (db: string, drive: string) => ['--database-url', db, '--local-root', drive];

type Failure = { path: string; stage: string; code: string; reason: string };
const failuresOf = (summary: Record<string, any>) => (summary.failures as Failure[]).map((f) => [f.path, f.stage, f.code]);

/** Every row is the emulator's item at exactly that path (no case or Unicode folding), and nothing else is below the root. */
function assertRowsAreTheDrive(rows: ItemRow[], root: string, graph: GraphEmulator = emulator) {
  const below = graph.items().filter((i) => i.path.startsWith(`${root}/`));
  const byPath = new Map(below.map((i) => [i.path, i]));
  for (const row of rows) {
    const item = byPath.get(`${root}/${row.remote_path}`);
    assert.ok(item, `drive item at exactly ${JSON.stringify(`${root}/${row.remote_path}`)}`);
    assert.equal(item.id, row.onedrive_item_id);
    assert.equal(item.name, row.name);
    if (!row.is_folder) assert.equal(item.quickXorHash, row.content_hash);
  }
  assert.equal(below.length, rows.length, 'every item below the remote root has its row');
  assertChildCountsExact(rows);
}

test('a file deleted between the walk and its upload is reported as vanished and the other files are imported', async () => {
  const db = await freshDatabase('vanished');
  const src = await tempDir('src');
  const root = '/bad-vanished';
  const files = await makeTree(src, { corps: [31], folders: [''], filesPerFolder: 12, size: (i) => 40 + i });
  emulator.faults.latencyMs = 20;
  // One file at a time: when the first upload reaches the drive, delete a file whose upload has not started.
  const started = new Set<string>();
  let victim: string | undefined;
  emulator.faults.stall({
    count: 1,
    match: (req) => {
      if (req.method === 'PUT' && req.path.endsWith(':/content')) {
        started.add(decodeURIComponent(req.path.split(':/')[1]));
        if (victim === undefined) {
          victim = files.find((f) => !started.has(path.posix.basename(f)))!;
          unlinkSync(path.join(src, victim));
        }
      }
      return false;
    },
  });

  const r = await runJson([src, '--threads', '1', '--tasks-per-thread', '1', ...onedrive(db.url, root)], env());

  assert.ok(victim, 'the test deleted a file mid-run');
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.summary.uploaded, files.length - 1);
  assert.equal(r.summary.failed, 1);
  assert.deepEqual(failuresOf(r.summary), [[victim, 'read', 'vanished']]);
  assert.match(r.summary.failures[0].reason, /vanished/);
  assert.deepEqual((await failureRows(db.url, r.summary.runId)).map((f) => [f.source_path, f.stage, f.error_code]), [[victim, 'read', 'vanished']]);
  const rows = await items(db.url);
  await assertLedgerMatchesFiles(rows, src, files.filter((f) => f !== victim));
  assertRowsAreTheDrive(rows, root);
  assert.equal(emulator.itemByPath(`${root}/${victim}`), undefined, 'nothing was uploaded for the vanished file');
});

test('a file name that is not valid UTF-8 is skipped as name-not-utf8 with its bytes shown, and the other files are imported', async () => {
  const db = await freshDatabase('not_utf8');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const files = await makeTree(src, { corps: [32], folders: ['', 'sub'], filesPerFolder: 3 });
  // "bad\xFF\xFE.txt": bytes that no UTF-8 decoder accepts.
  writeFileSync(Buffer.concat([Buffer.from(`${path.join(src, '32', 'sub')}/`), Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x2e, 0x74, 0x78, 0x74])]), 'latin-1 name');

  const r = await runJson([src, ...local(db.url, drive)]);

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.uploaded, files.length);
  assert.equal(r.summary.skipped, 1);
  assert.equal(r.summary.failures.length, 1);
  const f = r.summary.failures[0] as Failure;
  assert.equal(f.code, 'name-not-utf8');
  assert.equal(f.stage, 'walk');
  assert.ok(f.path.startsWith('32/sub/bad'), f.path);
  assert.ok(f.reason.includes('bad\\xFF\\xFE.txt'), f.reason);
  const recorded = await failureRows(db.url, r.summary.runId);
  assert.deepEqual(recorded.map((x) => [x.source_path, x.stage, x.error_code]), [[f.path, 'walk', 'name-not-utf8']]);
  assert.ok(recorded[0].message.includes('bad\\xFF\\xFE.txt'), recorded[0].message);
  await assertLedgerMatchesFiles(await items(db.url), src, files);
});

/** Names that break naive URL, shell or Unicode handling; every one is a valid OneDrive name. */
const oddNames = [
  'with space.txt',
  '100%.txt',
  '%41%2F.txt',
  '#hash#.txt',
  'a+b&c=d;e.txt',
  'emoji 🎉🦄.txt',
  'caf\u00e9 NFC.txt',
  'cafe\u0301 NFD.txt',
  'empty.bin',
];
const oddFolder = 'Zu\u0308rich #1 %20';

async function makeOddTree(src: string): Promise<string[]> {
  const files: string[] = [];
  await mkdir(path.join(src, '33', oddFolder), { recursive: true });
  for (const [i, name] of oddNames.entries()) {
    for (const dir of ['33', `33/${oddFolder}`]) {
      const rel = `${dir}/${name}`;
      await writeFile(path.join(src, rel), name === 'empty.bin' ? Buffer.alloc(0) : `content ${i} of ${rel}`);
      files.push(rel);
    }
  }
  return files;
}

test('names with spaces, %, #, emoji and combining characters, and a 0-byte file, are imported byte-exact to the local target', async () => {
  const db = await freshDatabase('odd_local');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const files = await makeOddTree(src);

  const r = await runJson([src, ...local(db.url, drive)]);

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.uploaded, files.length);
  assert.deepEqual(r.summary.failures, []);
  const rows = await items(db.url);
  await assertLedgerMatchesFiles(rows, src, files);
  assert.deepEqual(rows.map((x) => x.remote_path).sort(), ['33', `33/${oddFolder}`, ...files].sort(), 'paths kept exactly, NFC and NFD apart');
  for (const rel of files) assert.deepEqual(await readFile(path.join(drive, rel)), await readFile(path.join(src, rel)), `copy of ${JSON.stringify(rel)}`);
});

test('names with spaces, %, #, emoji and combining characters, and a 0-byte file, reach OneDrive under exactly the names created', async () => {
  const db = await freshDatabase('odd_onedrive');
  const src = await tempDir('src');
  const root = '/bad-odd-names';
  const files = await makeOddTree(src);

  const r = await runJson([src, ...onedrive(db.url, root)], env());

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.uploaded, files.length);
  assert.deepEqual(r.summary.failures, []);
  const rows = await items(db.url);
  await assertLedgerMatchesFiles(rows, src, files);
  assertRowsAreTheDrive(rows, root);
  for (const rel of files) {
    const item = emulator.items().find((i) => i.path === `${root}/${rel}`);
    assert.ok(item, `item at exactly ${JSON.stringify(rel)} (${[...rel].map((c) => c.codePointAt(0)!.toString(16)).join(' ')})`);
    assert.deepEqual(item.content, await readFile(path.join(src, rel)));
  }
  assert.equal(emulator.itemByPath(`${root}/33/empty.bin`)!.size, 0);
});

test('an unreadable directory is reported as unreadable, fails the run with exit 1, and everything readable is imported', async () => {
  const db = await freshDatabase('unreadable_dir');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const files = await makeTree(src, { corps: [34], folders: ['', 'open'], filesPerFolder: 3 });
  await mkdir(path.join(src, '34', 'locked', 'deeper'), { recursive: true });
  await writeFile(path.join(src, '34', 'locked', 'hidden-away.txt'), 'x');
  await writeFile(path.join(src, '34', 'locked', 'deeper', 'more.txt'), 'y');
  // Root reads any directory, so when the tests run as root the importer runs as 'nobody'.
  const asNobody = process.getuid?.() === 0;
  if (asNobody) for (const d of [src, drive]) execFileSync('chmod', ['-R', 'a+rwX', d]);
  await chmod(path.join(src, '34', 'locked'), 0);

  const r = await runJson([src, ...local(db.url, drive)], {}, asNobody ? { user: 'nobody' } : {});

  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.summary.status, 'failed');
  assert.equal(r.summary.failed, 1, 'the directory counts as one failure');
  assert.equal(r.summary.uploaded, files.length);
  assert.deepEqual(failuresOf(r.summary), [['34/locked', 'walk', 'unreadable']]);
  assert.match(r.summary.failures[0].reason, /permission denied/);
  assert.deepEqual((await failureRows(db.url, r.summary.runId)).map((f) => [f.source_path, f.stage, f.error_code]), [['34/locked', 'walk', 'unreadable']]);
  await assertLedgerMatchesFiles(await items(db.url), src, files);
});

test('a sparse 3 GiB file uploads to OneDrive in chunks with the importer staying under 200 MB of memory', async (t) => {
  const db = await freshDatabase('sparse');
  const src = await tempDir('src');
  const root = '/bad-sparse';
  const big = await startGraphEmulator({ simpleUploadMax: 4 * MiB, storeContent: false });
  try {
    await mkdir(path.join(src, '35'));
    const f = await open(path.join(src, '35', 'sparse.bin'), 'w');
    await f.truncate(3 * GiB);
    await f.write(Buffer.from('the end'), 0, 7, 3 * GiB - 7);
    await f.close();
    await writeFile(path.join(src, '35', 'small.txt'), 'small');
    const started = Date.now();
    const run = startCli([src, ...onedrive(db.url, root, big), '--json', '--no-progress'], env(big));
    const rss = sampleRss(run.child.pid!);
    const r = await run.done;
    const peak = rss.stop();
    t.diagnostic(`3 GiB upload took ${((Date.now() - started) / 1000).toFixed(1)} s, peak RSS ${(peak / MiB).toFixed(0)} MB`);

    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.uploaded, 2);
    assert.equal(summary.bytesUploaded, 3 * GiB + 5);
    assert.ok(peak > 0, 'memory was sampled');
    assert.ok(peak < 200 * MiB, `peak RSS ${(peak / MiB).toFixed(0)} MB`);
    const item = big.itemByPath(`${root}/35/sparse.bin`)!;
    assert.equal(item.size, 3 * GiB);
    const rows = await items(db.url);
    const row = rows.find((x) => x.remote_path === '35/sparse.bin')!;
    assert.equal(Number(row.size_bytes), 3 * GiB);
    assert.equal(row.content_hash, item.quickXorHash, 'the row holds the hash of the bytes the drive received');
    assert.equal(row.local_hash, item.quickXorHash, 'the bytes read are the bytes the drive received');
    assertRowsAreTheDrive(rows, root, big);
  } finally {
    await big.close();
  }
});

/** 35/d000/d001/…/d199/leaf.txt, plus 35/shallow.txt; returns the files and the deep folder chain. */
async function makeDeepTree(src: string): Promise<{ files: string[]; chain: string[] }> {
  const chain = Array.from({ length: 200 }, (_, i) => `d${String(i).padStart(3, '0')}`);
  const deep = path.join(src, '36', ...chain);
  await mkdir(deep, { recursive: true });
  await writeFile(path.join(deep, 'leaf.txt'), 'at the bottom');
  await writeFile(path.join(src, '36', 'shallow.txt'), 'near the top');
  return { files: ['36/shallow.txt', ['36', ...chain, 'leaf.txt'].join('/')], chain };
}

test('a directory 200 levels deep is imported to the local target with a row for every folder and exact child counts', async () => {
  const db = await freshDatabase('deep_local');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const { files } = await makeDeepTree(src);

  const r = await runJson([src, ...local(db.url, drive)]);

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.uploaded, 2);
  assert.equal(r.summary.foldersCreated, 201);
  assert.deepEqual(r.summary.failures, []);
  const rows = await items(db.url);
  assert.equal(rows.filter((x) => x.is_folder).length, 201, 'the corp folder and 200 levels');
  await assertLedgerMatchesFiles(rows, src, files);
  assert.deepEqual(await readFile(path.join(drive, files[1])), Buffer.from('at the bottom'));
});

test('a directory 200 levels deep is skipped on OneDrive as remote-path-too-long while a shallow sibling file is imported', async (t) => {
  const db = await freshDatabase('deep_onedrive');
  const src = await tempDir('src');
  const root = '/bad-deep';
  const { files } = await makeDeepTree(src);

  const r = await runJson([src, ...onedrive(db.url, root)], env());

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.uploaded, 1);
  assert.equal(r.summary.skipped, 1);
  assert.equal(r.summary.failed, 0);
  const failures = r.summary.failures as Failure[];
  const byStage = new Map<string, number>();
  for (const f of failures) byStage.set(`${f.stage}/${f.code}`, (byStage.get(`${f.stage}/${f.code}`) ?? 0) + 1);
  t.diagnostic(`failures by stage/code: ${JSON.stringify(Object.fromEntries(byStage))}; first: ${failures[0]?.path.length} chars ${failures[0]?.reason}`);
  const leaf = failures.find((f) => f.path === files[1]);
  assert.ok(leaf, `the deep file is reported: ${JSON.stringify(failures.map((f) => [f.path.length, f.stage, f.code]))}`);
  assert.equal(leaf.code, 'remote-path-too-long');
  assert.match(leaf.reason, /400/);
  assert.deepEqual([...new Set(failures.map((f) => f.code))], ['remote-path-too-long'], 'every folder too deep for the drive is reported with the same code');
  const recorded = await failureRows(db.url, r.summary.runId);
  assert.equal(recorded.length, r.summary.failuresTotal);
  assert.ok(recorded.some((f) => f.source_path === files[1] && f.error_code === 'remote-path-too-long'));
  const rows = await items(db.url);
  assert.deepEqual(rows.filter((x) => !x.is_folder).map((x) => x.remote_path), ['36/shallow.txt']);
  assertRowsAreTheDrive(rows, root);
  assert.equal(emulator.itemByPath(`${root}/36/shallow.txt`)!.content?.toString(), 'near the top');
});

for (const follow of [true, false]) {
  test(`a symbolic link loop is reported as ${follow ? "symlink-loop with --follow-symlinks" : 'symlink without --follow-symlinks'} and the run completes`, async () => {
    const db = await freshDatabase(`loop_${follow}`);
    const src = await tempDir('src');
    const drive = await tempDir('drive');
    const files = await makeTree(src, { corps: [37], folders: ['', 'sub'], filesPerFolder: 2 });
    await symlink('..', path.join(src, '37', 'loop'));
    await symlink('../..', path.join(src, '37', 'sub', 'up'));

    const r = await runJson([src, ...(follow ? ['--follow-symlinks'] : []), ...local(db.url, drive)]);

    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.summary.uploaded, files.length);
    const code = follow ? 'symlink-loop' : 'symlink';
    assert.deepEqual(failuresOf(r.summary).sort(), [['37/loop', 'walk', code], ['37/sub/up', 'walk', code]]);
    assert.deepEqual((await failureRows(db.url, r.summary.runId)).map((f) => [f.source_path, f.error_code]), [['37/loop', code], ['37/sub/up', code]]);
    await assertLedgerMatchesFiles(await items(db.url), src, files);
  });
}

test('an unwritable --local-root is a one-line configuration error naming --local-root, exit 2, before anything is written', async () => {
  const db = await freshDatabase('bad_local_root');
  const src = await tempDir('src');
  await makeTree(src, { corps: [38], folders: [''], filesPerFolder: 2 });
  const blocker = path.join(await tempDir('blocker'), 'a-regular-file');
  await writeFile(blocker, 'not a directory');

  const r = await runCli([src, ...local(db.url, path.join(blocker, 'drive')), '--json', '--no-progress']);

  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^vmb-import: .*--local-root/);
  assert.ok(lines[0].includes(path.join(blocker, 'drive')), lines[0]);
  assert.equal(await dumpTables(db.url), 'no schema', 'the database was not touched');
});
