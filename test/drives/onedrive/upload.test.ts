import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, truncate } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { quickXorHashBase64 } from '../../../src/hash/quickxorhash.js';
import { CHUNK, isUploadUrl, patterned, startHarness, type Harness } from './harness.js';

async function uploadBytes(h: Harness, name: string, bytes: Buffer, overrides = {}) {
  const target = h.target(overrides);
  const parentId = await target.ensureFolder({ parentId: null, name: 'in', remotePath: 'in' });
  const absPath = await h.file(name, bytes);
  const uploaded = await target.upload({ source: h.source(absPath), parentId, name, remotePath: `in/${name}` });
  return { target, parentId, absPath, uploaded, item: h.emulator.itemByPath(`/vmb/in/${name}`) };
}

for (const [label, size, chunkPuts] of [
  ['a small file', 1_000, 0],
  ['a 0-byte file', 0, 0],
  ['a file of exactly simpleUploadMax bytes', 4 * CHUNK, 0],
  ['a file of 3.5 chunks', 3.5 * CHUNK, 4],
] as const) {
  test(`${label} uploads with the size and quickXorHash of the local file`, async (t) => {
    const h = await startHarness({ simpleUploadMax: 4 * CHUNK });
    t.after(() => h.close());
    const bytes = patterned(size);
    const { uploaded, item } = await uploadBytes(h, 'f.bin', bytes, { simpleUploadMax: chunkPuts === 0 ? 4 * CHUNK : CHUNK });
    assert.equal(h.emulator.requests().filter((r) => isUploadUrl(r.path) && r.method === 'PUT').length, chunkPuts);
    const expected = quickXorHashBase64(bytes);
    assert.equal(item?.size, size);
    assert.equal(item?.quickXorHash, expected);
    assert.ok(item?.content?.equals(bytes));
    assert.deepEqual(uploaded, { itemId: item?.id, size, remoteHash: expected, localHash: expected, retries: 0, resumedBytes: 0 });
  });
}

test('a file at the threshold goes up in one PUT and one byte more goes through a session', async (t) => {
  const h = await startHarness({ simpleUploadMax: 4 * CHUNK });
  t.after(() => h.close());
  await uploadBytes(h, 'at.bin', patterned(4 * CHUNK), { simpleUploadMax: 4 * CHUNK });
  assert.equal(h.emulator.requests().filter((r) => isUploadUrl(r.path)).length, 0);
  await uploadBytes(h, 'over.bin', patterned(4 * CHUNK + 1), { simpleUploadMax: 4 * CHUNK });
  const chunks = h.emulator.requests().filter((r) => isUploadUrl(r.path) && r.method === 'PUT');
  assert.deepEqual(
    chunks.map((r) => r.contentRange),
    ['bytes 0-327679/1310721', 'bytes 327680-655359/1310721', 'bytes 655360-983039/1310721', 'bytes 983040-1310719/1310721', 'bytes 1310720-1310720/1310721'],
  );
});

test('re-uploading a file replaces its content and keeps its item id', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  for (const size of [10, 3 * CHUNK + 5]) {
    const { target, parentId, uploaded } = await uploadBytes(h, 'same.bin', patterned(size), { simpleUploadMax: 100 });
    const changed = Buffer.from(patterned(size + 7)).reverse();
    const absPath = await h.file('same.bin', changed);
    const again = await target.upload({ source: h.source(absPath), parentId, name: 'same.bin', remotePath: 'in/same.bin' });
    assert.equal(again.itemId, uploaded.itemId);
    assert.equal(h.emulator.itemByPath('/vmb/in/same.bin')?.quickXorHash, quickXorHashBase64(changed));
  }
});

test('no Authorization header is ever sent to an upload URL, and every Graph call carries one', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  await uploadBytes(h, 'big.bin', patterned(3 * CHUNK + 1));
  const requests = h.emulator.requests();
  assert.ok(requests.filter((r) => isUploadUrl(r.path)).length >= 4);
  for (const r of requests) assert.equal(r.hasAuthorization, !isUploadUrl(r.path), `${r.method} ${r.path}`);
});

test('a hash mismatch on an ordinary file is a retryable hash-mismatch failure', async (t) => {
  const h = await startHarness({ rewriteExtensions: ['.txt', '.pdf'] });
  t.after(() => h.close());
  await assert.rejects(uploadBytes(h, 'notes.txt', patterned(100)), { kind: 'retryable', code: 'hash-mismatch' });
});

test('a PDF that SharePoint rewrote is accepted with the drive’s hash and size', async (t) => {
  const h = await startHarness({ rewriteExtensions: ['.txt', '.pdf'] });
  t.after(() => h.close());
  const bytes = patterned(2 * CHUNK + 3);
  const { uploaded, item } = await uploadBytes(h, 'scan.PDF', bytes, { simpleUploadMax: CHUNK });
  assert.equal(uploaded.localHash, quickXorHashBase64(bytes));
  assert.equal(uploaded.remoteHash, item?.quickXorHash);
  assert.notEqual(uploaded.remoteHash, uploaded.localHash);
  assert.equal(uploaded.size, item?.size);
});

test('a file that shrinks after it was opened fails with file-changed and cancels its session', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const target = h.target();
  const parentId = await target.ensureFolder({ parentId: null, name: 'in', remotePath: 'in' });
  const absPath = await h.file('shrunk.bin', patterned(3 * CHUNK));
  const source = h.source(absPath);
  await truncate(absPath, 2 * CHUNK);
  await assert.rejects(target.upload({ source, parentId, name: 'shrunk.bin', remotePath: 'in/shrunk.bin' }), {
    kind: 'skip',
    code: 'file-changed',
  });
  assert.ok(h.emulator.requests().some((r) => r.method === 'DELETE' && isUploadUrl(r.path)));
  assert.equal(h.emulator.openSessions(), 0);
  assert.equal(h.emulator.itemByPath('/vmb/in/shrunk.bin'), undefined);
});

test('a file that grows after it was opened fails with file-changed before its last bytes are sent', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const target = h.target();
  const parentId = await target.ensureFolder({ parentId: null, name: 'in', remotePath: 'in' });
  for (const size of [10, 2 * CHUNK]) {
    const absPath = await h.file(`grown-${size}.bin`, patterned(size));
    const source = h.source(absPath);
    await appendFile(absPath, 'x');
    await assert.rejects(target.upload({ source, parentId, name: 'grown.bin', remotePath: 'in/grown.bin' }), { code: 'file-changed' });
  }
  assert.equal(h.emulator.itemByPath('/vmb/in/grown.bin'), undefined);
});

test('aborting an upload cancels its session and fails with aborted', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const target = h.target();
  const parentId = await target.ensureFolder({ parentId: null, name: 'in', remotePath: 'in' });
  const absPath = await h.file('a.bin', patterned(4 * CHUNK));
  const controller = new AbortController();
  h.emulator.faults.latencyMs = 20;
  // A match predicate sees each request as its headers arrive: abort when the second chunk starts.
  h.emulator.faults.stall({ count: 1, match: (r) => r.toUploadUrl && r.headers['content-range']?.startsWith(`bytes ${CHUNK}-`) === true && (controller.abort(), false) });
  await assert.rejects(target.upload({ source: h.source(absPath), parentId, name: 'a.bin', remotePath: 'in/a.bin', signal: controller.signal }), { code: 'aborted' });
  assert.ok(h.emulator.requests().some((r) => r.method === 'DELETE' && isUploadUrl(r.path)));
  assert.equal(h.emulator.openSessions(), 0);
});

test('close cancels the session of an upload still in progress', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const target = h.target({ requestTimeoutMs: 10_000 });
  const parentId = await target.ensureFolder({ parentId: null, name: 'in', remotePath: 'in' });
  const absPath = await h.file('c.bin', patterned(3 * CHUNK));
  h.emulator.faults.stall({ count: 1, match: (r) => r.toUploadUrl && r.headers['content-range']?.startsWith(`bytes ${CHUNK}-`) === true });
  const upload = target.upload({ source: h.source(absPath), parentId, name: 'c.bin', remotePath: 'in/c.bin' });
  while (h.emulator.faults.counts.stalled === 0) await sleep(5);
  await target.close();
  await assert.rejects(upload, { code: 'target-closed' });
  assert.equal(h.emulator.requests().filter((r) => r.method === 'DELETE' && isUploadUrl(r.path)).length, 1);
  assert.equal(h.emulator.openSessions(), 0);
});

test('a 1 GiB file uploads with the process staying under 200 MB RSS', async (t) => {
  const h = await startHarness({ storeContent: false });
  t.after(() => h.close());
  const size = 1024 * 1024 * 1024;
  const absPath = await h.file('sparse.bin', Buffer.alloc(0));
  await truncate(absPath, size);
  const target = h.target({ chunkSize: 32 * CHUNK });
  const parentId = await target.ensureFolder({ parentId: null, name: 'in', remotePath: 'in' });
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    const uploaded = await target.upload({ source: h.source(absPath), parentId, name: 'sparse.bin', remotePath: 'in/sparse.bin' });
    assert.equal(uploaded.size, size);
    assert.equal(uploaded.remoteHash, uploaded.localHash);
  } finally {
    clearInterval(sampler);
  }
  assert.ok(peak < 200 * 1024 * 1024, `peak RSS ${Math.round(peak / 1048576)} MB`);
  t.diagnostic(`peak RSS ${Math.round(peak / 1048576)} MB`);
});
