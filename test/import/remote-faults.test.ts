import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, test } from 'node:test';
import { quickXorHashBase64 } from '../../src/hash/quickxorhash.js';
import { freshDatabase } from '../support/database.js';
import { runJson } from '../support/cli.js';
import { assertLedgerMatchesFiles, items, type ItemRow } from '../support/ledger.js';
import { makeTree, tempDir } from '../support/trees.js';
import { runRow, summaryCounts } from '../support/faults.js';
import { startGraphEmulator, type FaultRequest, type GraphEmulator } from '../support/graph-emulator/server.js';

const CHUNK = 327_680;

let emulator: GraphEmulator;
before(async () => {
  emulator = await startGraphEmulator({ simpleUploadMax: 4 * 1024 * 1024, storeContent: true });
});
after(() => emulator.close());
beforeEach(() => {
  emulator.faults.reset();
  emulator.resetRequests();
});

const onedrive = (db: string, root: string) => [
  '--target', 'onedrive', '--graph-url', emulator.url, '--drive-id', emulator.driveId, '--remote-root', root, '--database-url', db,
  '--chunk-size', String(CHUNK), '--simple-upload-max', String(CHUNK), '--request-timeout', '10s',
];
const env = () => ({ VMB_GRAPH_TOKEN: emulator.token });

/**
 * Requests that carry a file: simple-upload PUTs, createUploadSession and everything sent to an
 * upload URL. Their retries are counted per file in the summary; the main thread's drive probe is
 * not one of them.
 */
const isFileRequest = (req: FaultRequest) =>
  req.toUploadUrl || (req.method === 'PUT' && req.path.endsWith(':/content')) || (req.method === 'POST' && req.path.endsWith('/createUploadSession'));
const isChunkPut = (req: FaultRequest) => req.toUploadUrl && req.method === 'PUT';

/** Every row is the drive item at its path, and every item below the remote root has its row. */
function assertRowsAreTheDrive(rows: ItemRow[], root: string, files: string[]) {
  for (const row of rows) {
    const item = emulator.itemByPath(`${root}/${row.remote_path}`);
    assert.ok(item, `drive item for ${row.remote_path}`);
    assert.equal(item.id, row.onedrive_item_id, `same item id for ${row.remote_path}`);
    assert.equal(item.isFolder, row.is_folder);
    if (!row.is_folder) assert.equal(item.quickXorHash, row.content_hash, `drive hash of ${row.remote_path}`);
  }
  const below = emulator.items().filter((i) => i.path.startsWith(`${root}/`));
  assert.equal(below.length, rows.length, 'no item on the drive without its row (orphan) and none missing');
  assert.deepEqual(
    below.filter((i) => !i.isFolder).map((i) => i.path).sort(),
    files.map((f) => `${root}/${f}`).sort(),
    'the drive holds exactly the files of the tree',
  );
}

test('one run through 503s (with and without Retry-After), 500/502/504, connections dropped mid-chunk, a 429 storm and expired upload sessions uploads every file exactly once', async (t) => {
  const db = await freshDatabase('remote_faults');
  const src = await tempDir('src');
  const root = '/vmb-remote-faults';
  const files = await makeTree(src, { corps: [21], folders: ['', 'a', 'a/b'], filesPerFolder: 40 });
  const bigSizes = [CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5, 4 * CHUNK + 777, 5 * CHUNK - 1, 6 * CHUNK + 12_345];
  for (const [i, size] of bigSizes.entries()) {
    const rel = path.posix.join('21', i % 2 === 0 ? 'a' : 'a/b', `big-${i}.bin`);
    await writeFile(path.join(src, rel), randomBytes(size));
    files.push(rel);
  }
  const victimSize = bigSizes[5];

  // Armed first and never matching, this hook sees every request: it counts the file requests and
  // expires every open upload session as the victim's third chunk arrives.
  let fileRequests = 0;
  let expired = false;
  emulator.faults.stall({
    count: 1,
    match: (req) => {
      if (isFileRequest(req)) fileRequests++;
      const range = String(req.headers['content-range'] ?? '');
      if (!expired && isChunkPut(req) && range.startsWith(`bytes ${2 * CHUNK}-`) && range.endsWith(`/${victimSize}`)) {
        emulator.faults.expireSessions();
        expired = true;
      }
      return false;
    },
  });
  emulator.faults.failNext({ count: 3, status: 503, match: isFileRequest });
  emulator.faults.throttle({ count: 2, status: 503, retryAfterSeconds: 1, match: isFileRequest });
  for (const status of [500, 502, 504] as const) emulator.faults.failNext({ count: 2, status, match: (req) => isFileRequest(req) && fileRequests > 15 });
  emulator.faults.dropConnection({ count: 3, afterBytes: 100_000, match: isChunkPut });
  // The storm comes once uploads are in full flow.
  emulator.faults.throttle({ count: 6, status: 429, retryAfterSeconds: 1, match: (req) => isFileRequest(req) && fileRequests > 60 });

  const r = await runJson([src, '--threads', '8', ...onedrive(db.url, root)], env());

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.status, 'succeeded');
  assert.equal(r.summary.uploaded, files.length);
  assert.equal(r.summary.failed, 0);
  assert.ok(expired, 'the test expired the upload sessions mid-upload');
  const counts = { ...emulator.faults.counts };
  assert.equal(emulator.faults.pending(), 1, 'every armed fault fired (only the hook is left)');
  assert.equal(counts.failed, 9);
  assert.equal(counts.throttled, 8);
  assert.equal(counts.dropped, 3);
  assert.ok(counts.sessionsExpired >= 1 && counts.expiredSessionHits >= 1, JSON.stringify(counts));
  const fired = counts.failed + counts.throttled + counts.dropped + counts.expiredSessionHits;
  t.diagnostic(`faults fired: ${JSON.stringify(counts)}; summary.retries ${r.summary.retries}; ${fileRequests} file requests`);
  // A 429 or 503 is a throttled request, waited out; any other fault a retry.
  const counted = r.summary.retries + r.summary.throttling.throttledRequests;
  assert.ok(counted >= fired, `summary.retries ${r.summary.retries} + throttled ${r.summary.throttling.throttledRequests} count every fault that fired (${fired}: ${JSON.stringify(counts)})`);
  assert.equal(emulator.openSessions(), 0, 'no upload session left open');

  // Exactly one upload finished per file: one 2xx simple PUT per small file, one 2xx last chunk per big file.
  const log = emulator.requests();
  const simpleDone = new Map<string, number>();
  for (const q of log) if (q.method === 'PUT' && q.path.endsWith(':/content') && q.status >= 200 && q.status < 300) simpleDone.set(q.path, (simpleDone.get(q.path) ?? 0) + 1);
  assert.equal(simpleDone.size, files.length - bigSizes.length);
  assert.ok([...simpleDone.values()].every((n) => n === 1), 'each small file was stored once');
  for (const size of bigSizes) {
    const last = log.filter((q) => q.method === 'PUT' && q.contentRange?.endsWith(`-${size - 1}/${size}`) && (q.status === 200 || q.status === 201));
    assert.equal(last.length, 1, `the file of ${size} bytes was committed once`);
  }

  const rows = await items(db.url);
  await assertLedgerMatchesFiles(rows, src, files);
  assertRowsAreTheDrive(rows, root, files);
  for (const rel of files) {
    const item = emulator.itemByPath(`${root}/${rel}`)!;
    assert.deepEqual(item.content, await readFile(path.join(src, rel)), `the drive holds the bytes of ${rel}`);
  }
  const run = await runRow(db.url, r.summary.runId);
  assert.equal(run.status, 'succeeded');
  assert.deepEqual(run.counts, summaryCounts(r.summary));
});

test(
  'retried folder creations are counted in the summary like every other retried Graph request (a 503 as throttled)',
  async () => {
    const db = await freshDatabase('remote_folder_retries');
    const src = await tempDir('src');
    const root = '/vmb-folder-retries';
    await mkdir(path.join(src, '22'));
    const files = await makeTree(src, { corps: [22], folders: ['x', 'x/y'], filesPerFolder: 2, size: () => 10 });
    // Only the creation of the corp's sub-folders fails, after the remote root exists.
    emulator.faults.failNext({ count: 2, status: 503, match: (req) => req.method === 'POST' && req.path.endsWith('/children') && emulator.itemByPath(`${root}/22`) !== undefined });

    const r = await runJson([src, '--threads', '1', ...onedrive(db.url, root)], env());

    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.summary.uploaded, files.length);
    assert.equal(emulator.faults.counts.failed, 2, 'both folder creations met a 503 and were retried');
    assertRowsAreTheDrive(await items(db.url), root, files);
    assert.equal(quickXorHashBase64(await readFile(path.join(src, files[0]))), emulator.itemByPath(`${root}/${files[0]}`)!.quickXorHash);
    const counted = r.summary.retries + r.summary.throttling.throttledRequests;
    assert.ok(counted >= 2, `summary.retries ${r.summary.retries} + throttled ${r.summary.throttling.throttledRequests}, but 2 folder-creation requests were retried`);
  },
);
