import assert from 'node:assert/strict';
import { open, readFile, writeFile, utimes, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { quickXorHashBase64 } from '../../src/hash/quickxorhash.js';
import { freshDatabase } from '../support/database.js';
import { runJson, startCli } from '../support/cli.js';
import { assertChildCountsExact, items, type ItemRow } from '../support/ledger.js';
import { makeTree, tempDir } from '../support/trees.js';
import { startGraphEmulator, type GraphEmulator } from '../support/graph-emulator/server.js';
import { sampleRss } from '../support/faults.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = 327_680;
const SIMPLE_MAX = 4 * MiB;

let emulator: GraphEmulator;
before(async () => {
  emulator = await startGraphEmulator({ simpleUploadMax: SIMPLE_MAX, storeContent: true });
});
after(() => emulator.close());
beforeEach(() => emulator.faults.reset());

function onedriveArgs(db: string, remoteRoot: string, extra: string[] = []): string[] {
  return ['--target', 'onedrive', '--graph-url', emulator.url, '--drive-id', emulator.driveId, '--remote-root', remoteRoot, '--database-url', db, '--chunk-size', String(CHUNK * 8), '--simple-upload-max', String(SIMPLE_MAX), '--request-timeout', '5s', ...extra];
}
const env = () => ({ VMB_GRAPH_TOKEN: emulator.token });

/** Every ledger row is the emulator's item: same id, parent, name, size and hash. */
function assertRowsMatchDrive(rows: ItemRow[], remoteRoot: string) {
  for (const row of rows) {
    const item = emulator.itemByPath(`${remoteRoot}/${row.remote_path}`);
    assert.ok(item, `drive item for ${row.remote_path}`);
    assert.equal(row.onedrive_item_id, item.id, `id of ${row.remote_path}`);
    assert.equal(row.name, item.name);
    assert.equal(row.is_folder, item.isFolder);
    if (row.parent_item_id) assert.equal(row.parent_item_id, item.parentId, `parent of ${row.remote_path}`);
    else assert.equal(emulator.items().find((i) => i.id === item.parentId)?.path, remoteRoot, 'corp folder sits in the remote root');
    if (!row.is_folder) {
      assert.equal(Number(row.size_bytes), item.size, `size of ${row.remote_path}`);
      assert.equal(row.content_hash, item.quickXorHash, `hash of ${row.remote_path}`);
    }
  }
  assertChildCountsExact(rows);
}

const sizes = [0, 1, 1000, SIMPLE_MAX - 1, SIMPLE_MAX, SIMPLE_MAX + 1, 3 * CHUNK * 8 + 12_345];

for (const threads of [1, 8]) {
  test(`an import to OneDrive at ${threads} thread(s) puts 0-byte, small, threshold and multi-chunk files on the drive and rows that match its items`, async () => {
    const db = await freshDatabase(`od_${threads}`);
    const src = await tempDir('src');
    const root = `/vmb-${threads}`;
    const files = await makeTree(src, { corps: [31, 32], folders: ['', 'a', 'a/b'], filesPerFolder: sizes.length, size: (i) => sizes[i % sizes.length] });

    const r = await runJson([src, '--threads', String(threads), ...onedriveArgs(db.url, root)], env());

    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.summary.uploaded, files.length);
    const rows = await items(db.url);
    assert.equal(rows.length, files.length + 6);
    assertRowsMatchDrive(rows, root);
    for (const rel of files) {
      const item = emulator.itemByPath(`${root}/${rel}`)!;
      const bytes = await readFile(path.join(src, rel));
      assert.equal(item.quickXorHash, quickXorHashBase64(bytes), `drive holds the bytes of ${rel}`);
      assert.equal(rows.find((x) => x.remote_path === rel)!.local_hash, item.quickXorHash);
    }
  });
}

test('a re-run after a content change replaces the drive item in place and keeps every item id', async () => {
  const db = await freshDatabase('od_rerun');
  const src = await tempDir('src');
  const root = '/vmb-rerun';
  const files = await makeTree(src, { corps: [5], folders: [''], filesPerFolder: 4, size: (i) => [10, SIMPLE_MAX + 5, 0, 50][i] });
  assert.equal((await runJson([src, ...onedriveArgs(db.url, root)], env())).code, 0);
  const before = await items(db.url);
  for (const rel of [files[0], files[1]]) {
    await writeFile(path.join(src, rel), Buffer.alloc(777, 7));
    await utimes(path.join(src, rel), new Date(), new Date(Date.now() + 10_000));
  }

  const r = await runJson([src, ...onedriveArgs(db.url, root)], env());

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.uploaded, 2);
  assert.equal(r.summary.unchanged, 2);
  const afterRows = await items(db.url);
  assert.deepEqual(afterRows.map((x) => [x.remote_path, x.onedrive_item_id]), before.map((x) => [x.remote_path, x.onedrive_item_id]));
  assert.equal(emulator.itemByPath(`${root}/${files[1]}`)!.size, 777);
  assertRowsMatchDrive(afterRows, root);
});

test('names OneDrive forbids are skipped with the rule they break, the rest of the run completes, and encode maps them instead', async () => {
  const db = await freshDatabase('od_names');
  const src = await tempDir('src');
  const root = '/vmb-names';
  await mkdir(path.join(src, '9'));
  for (const name of ['ok.txt', 'what?.txt', 'CON', 'trailing.', 'a:b.txt', 'spaces and #, %, emoji 🎉, café.txt']) {
    await writeFile(path.join(src, '9', name), name);
  }

  const r = await runJson([src, ...onedriveArgs(db.url, root)], env());

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.uploaded, 2);
  assert.equal(r.summary.skipped, 4);
  const skipped = new Map(r.summary.failures.map((f: any) => [f.path, f.reason]));
  assert.match(String(skipped.get('9/what?.txt')), /\?/);
  assert.match(String(skipped.get('9/CON')), /reserve/i);
  assert.ok(emulator.itemByPath(`${root}/9/spaces and #, %, emoji 🎉, café.txt`));

  const encoded = await runJson([src, ...onedriveArgs(db.url, root, ['--name-policy', 'encode'])], env());
  assert.equal(encoded.code, 0, encoded.stderr);
  assert.equal(encoded.summary.uploaded, 3, 'the three encodable names are uploaded; CON stays reserved');
  assert.ok(emulator.itemByPath(`${root}/9/what？.txt`));
  assertRowsMatchDrive(await items(db.url), root);
});

test('after a 429 with Retry-After: 3, no thread sends any request to Graph for 3 seconds', async () => {
  const db = await freshDatabase('od_429');
  const src = await tempDir('src');
  const root = '/vmb-429';
  const files = await makeTree(src, { corps: [6], folders: ['', 'x'], filesPerFolder: 60, size: () => 100 });
  emulator.resetRequests();
  emulator.faults.latencyMs = 10;
  let armed = false;
  emulator.faults.throttle({
    count: 4,
    retryAfterSeconds: 3,
    status: 429,
    // Throttle only once uploads are in full flow, so many threads have requests in flight.
    match: (req) => req.method === 'PUT' && (armed ||= emulator.requests().filter((q) => q.method === 'PUT').length > 20),
  });

  const r = await runJson([src, '--threads', '8', ...onedriveArgs(db.url, root)], env());

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.uploaded, files.length);
  assert.equal(r.summary.throttling.throttledRequests, 4, 'the throttled requests are counted as such');
  assert.equal(r.summary.failed, 0);
  const log = emulator.requests();
  const throttled = log.filter((q) => q.status === 429);
  assert.equal(throttled.length, 4);
  // The hold starts when the client thread reads the 429; until then other threads' requests may
  // still arrive, and a request let through just before may reach the server late. With 8 threads
  // on 2 cores (a fresh checkout's first run included) a thread can wait that long for CPU, so the
  // first second is allowed; without the shared governor the other threads would keep sending
  // throughout the next two.
  for (const t of throttled) {
    const early = log.filter((q) => q.startedAt > t.endedAt! + 1000 && q.startedAt < t.endedAt! + 3000);
    assert.deepEqual(early.map((q) => `${q.method} ${q.path}`), [], `requests within 3 s of the 429 at ${t.endedAt!.toFixed(0)}`);
  }
  const last = Math.max(...throttled.map((t) => t.endedAt!));
  assert.ok(log.some((q) => q.startedAt >= last + 3000), 'the run went on after the hold');
  assertRowsMatchDrive(await items(db.url), root);
});

test('a connection dropped mid-chunk resumes the session without re-sending the chunks already stored', async () => {
  const db = await freshDatabase('od_drop');
  const src = await tempDir('src');
  const root = '/vmb-drop';
  await mkdir(path.join(src, '3'));
  const big = Buffer.alloc(CHUNK * 8 * 4 + 999);
  for (let i = 0; i < big.length; i++) big[i] = (i * 131) & 0xff;
  await writeFile(path.join(src, '3', 'big.bin'), big);
  emulator.resetRequests();
  emulator.faults.dropConnection({ count: 1, afterBytes: 100_000, match: (req) => req.toUploadUrl && req.method === 'PUT' && String(req.headers['content-range']).startsWith(`bytes ${CHUNK * 8 * 2}-`) });

  const r = await runJson([src, ...onedriveArgs(db.url, root)], env());

  assert.equal(r.code, 0, r.stderr);
  const ranges = emulator.requests().filter((q) => q.method === 'PUT' && q.contentRange).map((q) => q.contentRange!.split('/')[0]);
  const starts = ranges.map((x) => Number(x.replace('bytes ', '').split('-')[0]));
  assert.deepEqual(starts, [0, CHUNK * 8, CHUNK * 8 * 2, CHUNK * 8 * 2, CHUNK * 8 * 3, CHUNK * 8 * 4]);
  assert.equal(emulator.itemByPath(`${root}/3/big.bin`)!.quickXorHash, quickXorHashBase64(big));
  assertRowsMatchDrive(await items(db.url), root);
});

test('an expired upload session is restarted and the file still arrives whole', async () => {
  const db = await freshDatabase('od_expire');
  const src = await tempDir('src');
  const root = '/vmb-expire';
  await mkdir(path.join(src, '3'));
  const big = Buffer.alloc(CHUNK * 8 * 3 + 5, 9);
  await writeFile(path.join(src, '3', 'big.bin'), big);
  emulator.resetRequests();
  let expired = false;
  // The match hook sees each request as it arrives: expire the session just as the third chunk
  // comes in (the hook never lets its own fault fire).
  emulator.faults.stall({
    count: 1,
    match: (req) => {
      if (!expired && req.toUploadUrl && req.method === 'PUT' && String(req.headers['content-range']).startsWith(`bytes ${CHUNK * 8 * 2}-`)) {
        emulator.faults.expireSessions();
        expired = true;
      }
      return false;
    },
  });

  const r = await runJson([src, ...onedriveArgs(db.url, root)], env());

  assert.ok(expired, 'the test expired the session mid-upload');
  assert.equal(r.code, 0, r.stderr);
  assert.ok(emulator.faults.counts.expiredSessionHits >= 1, 'the run met the expired session');
  const sessions = emulator.requests().filter((q) => q.method === 'POST' && q.path.endsWith('createUploadSession'));
  assert.equal(sessions.length, 2, 'one session, then a new one after the expiry');
  assert.equal(emulator.itemByPath(`${root}/3/big.bin`)!.quickXorHash, quickXorHashBase64(big));
  assertRowsMatchDrive(await items(db.url), root);
});

test('a 1 GiB file uploads with the importer staying under 200 MB of memory', async () => {
  const db = await freshDatabase('od_1g');
  const src = await tempDir('src');
  const root = '/vmb-1g';
  const bigEmulator = await startGraphEmulator({ simpleUploadMax: SIMPLE_MAX, storeContent: false });
  try {
    await mkdir(path.join(src, '4'));
    const f = await open(path.join(src, '4', 'huge.bin'), 'w');
    await f.truncate(1024 * MiB);
    await f.write(Buffer.from('the end'), 0, 7, 1024 * MiB - 7);
    await f.close();
    const run = startCli(
      [src, '--target', 'onedrive', '--graph-url', bigEmulator.url, '--drive-id', bigEmulator.driveId, '--remote-root', root, '--database-url', db.url, '--json', '--no-progress'],
      { VMB_GRAPH_TOKEN: bigEmulator.token },
    );
    const rss = sampleRss(run.child.pid!);
    const r = await run.done;
    const peak = rss.stop();

    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).bytesUploaded, 1024 * MiB);
    assert.ok(peak > 0, 'memory was sampled');
    assert.ok(peak < 200 * MiB, `peak RSS ${(peak / MiB).toFixed(0)} MB`);
    assert.equal(bigEmulator.itemByPath(`${root}/4/huge.bin`)!.size, 1024 * MiB);
  } finally {
    await bigEmulator.close();
  }
});

test('missing Graph credentials or drive id, or a Graph URL that answers HTML, are one-line configuration errors', async () => {
  const src = await tempDir('src');
  const db = await freshDatabase('od_cfg');
  const noCreds = await startCli([src, '--target', 'onedrive', '--drive-id', 'x', '--database-url', db.url, '--no-progress']).done;
  assert.equal(noCreds.code, 2);
  assert.match(noCreds.stderr.trim(), /^vmb-import: --target onedrive: no Graph credentials/);
  const noDrive = await startCli([src, '--target', 'onedrive', '--database-url', db.url, '--no-progress'], env()).done;
  assert.equal(noDrive.code, 2);
  assert.match(noDrive.stderr.trim(), /^vmb-import: --target onedrive needs --drive-id/);

  const http = await import('node:http');
  const html = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'));
  await new Promise<void>((resolve) => html.listen(0, '127.0.0.1', resolve));
  try {
    const port = (html.address() as { port: number }).port;
    const r = await startCli([src, '--target', 'onedrive', '--drive-id', 'x', '--graph-url', `http://127.0.0.1:${port}/v1.0`, '--database-url', db.url, '--no-progress'], env()).done;
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /answered text\/html that is not a Graph drive/);
    assert.doesNotMatch(r.stderr, new RegExp(emulator.token));
  } finally {
    html.close();
  }
});
