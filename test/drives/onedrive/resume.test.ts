import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { utimes, writeFile } from 'node:fs/promises';
import { quickXorHashBase64 } from '../../../src/hash/quickxorhash.js';
import type { OneDriveDrive } from '../../../src/drives/onedrive/index.js';
import { LedgerSessionStore } from '../../../src/worker/ledger-session-store.js';
import { withClient } from '../../support/database.js';
import { sessionLedger, sessionRows } from '../../support/sessions.js';
import type { GraphEmulator } from '../../support/graph-emulator/server.js';
import { CHUNK, isUploadUrl, patterned, startHarness, type Harness } from './harness.js';

const DRIVE = 'drive-test';
const { url, ledger, newRun } = await sessionLedger('resume_drive', DRIVE);
after(() => ledger.close());

const FILE_SIZE = 8 * CHUNK + 1234;

/** The store a worker builds for one file: `earlier` says the planner saw a saved session. */
function storeFor(target: OneDriveDrive, remotePath: string, parentItemId: string, runId: number, earlier: boolean): LedgerSessionStore {
  return new LedgerSessionStore(ledger, { driveId: target.driveId, remoteRoot: target.remoteRoot, remotePath, sourcePath: remotePath, parentItemId, name: remotePath.split('/').at(-1)!, runId }, earlier);
}

const startsChunk = (offset: number) => (r: { toUploadUrl: boolean; method: string; headers: Record<string, unknown> }) =>
  r.toUploadUrl && r.method === 'PUT' && String(r.headers['content-range']).startsWith(`bytes ${offset}-`);

/** Chunk PUTs, status GETs and DELETEs on upload URLs and session creations, in order. */
function sessionTrace(emulator: GraphEmulator): string[] {
  return emulator
    .requests()
    .filter((r) => isUploadUrl(r.path) || r.path.endsWith('/createUploadSession'))
    .map((r) => (r.method === 'PUT' ? `PUT ${/bytes (\d+)-/.exec(r.contentRange ?? '')?.[1]} ${r.status}` : `${r.method}${isUploadUrl(r.path) ? '' : ' create'} ${r.status}`));
}

interface Interrupted {
  h: Harness;
  absPath: string;
  bytes: Buffer;
  parentId: string;
  remotePath: string;
  /** Bytes the server holds of the session the first upload left. */
  received: number;
}

/**
 * A first "run" uploads a file through a session kept in the ledger and is halted (the run's
 * bound) as the fragment at `haltAt` starts: that fragment goes through, then the upload stops.
 */
async function interruptedUpload(label: string, haltAt = 3 * CHUNK, emulatorOptions: Parameters<typeof startHarness>[0] = {}): Promise<Interrupted> {
  const h = await startHarness(emulatorOptions);
  const target = h.target();
  const remotePath = `in/${label}.bin`;
  const parentId = await target.ensureFolder({ parentId: null, name: 'in', remotePath: 'in' });
  const bytes = patterned(FILE_SIZE);
  const absPath = await h.file(`${label}.bin`, bytes);
  const halt = new AbortController();
  h.emulator.faults.stall({ count: 1, match: (r) => startsChunk(haltAt)(r) && (halt.abort(), false) });
  const runId = await newRun();
  await assert.rejects(
    target.upload({ source: h.source(absPath), parentId, name: `${label}.bin`, remotePath, halt: halt.signal, sessions: storeFor(target, remotePath, parentId, runId, false) }),
    { code: 'aborted' },
  );
  const [session] = h.emulator.uploadSessions();
  h.emulator.resetRequests();
  return { h, absPath, bytes, parentId, remotePath, received: session.received };
}

/** The next "run": a new drive instance uploads the same path with the planner's word that a session was saved. */
async function rerun(i: Interrupted) {
  const target = i.h.target();
  const runId = await newRun();
  const name = i.remotePath.split('/').at(-1)!;
  const uploaded = await target.upload({ source: i.h.source(i.absPath), parentId: i.parentId, name, remotePath: i.remotePath, sessions: storeFor(target, i.remotePath, i.parentId, runId, true) });
  return { uploaded, runId };
}

async function clearSessions(): Promise<void> {
  await withClient(url, (c) => c.query('DELETE FROM corporate.vmb_upload_sessions'));
}

test('an upload halted by the run’s bound stops after the fragment it is sending and keeps its session in the ledger', async (t) => {
  await clearSessions();
  const i = await interruptedUpload('halted');
  t.after(() => i.h.close());

  assert.equal(i.received, 4 * CHUNK, 'the fragment in flight at the halt went through, and no other');
  const [session] = i.h.emulator.uploadSessions();
  assert.equal(session.state, 'open', 'the session was not cancelled');
  const rows = await sessionRows(url);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].remote_path, i.remotePath);
  assert.equal(Number(rows[0].bytes_confirmed), 4 * CHUNK, 'the last progress was saved when it stopped');
  assert.ok(rows[0].upload_url.includes(session.id), 'the row holds that session’s upload URL');
});

test('the next upload of the same file continues the saved session from the server’s next byte, and the hash still covers the whole file', async (t) => {
  await clearSessions();
  const i = await interruptedUpload('continued');
  t.after(() => i.h.close());

  const { uploaded } = await rerun(i);

  assert.deepEqual(sessionTrace(i.h.emulator), ['GET 200', ...[4, 5, 6, 7].map((n) => `PUT ${n * CHUNK} 202`), `PUT ${8 * CHUNK} 201`]);
  assert.equal(uploaded.resumedBytes, 4 * CHUNK);
  assert.equal(uploaded.localHash, quickXorHashBase64(i.bytes), 'the first 4 chunks were hashed from disk');
  assert.equal(uploaded.remoteHash, uploaded.localHash);
  assert.equal(i.h.emulator.uploadSessions().length, 1, 'no second session');
  assert.ok(i.h.emulator.itemByPath(`/vmb/${i.remotePath}`)?.content?.equals(i.bytes));
});

test('a saved session continued by a later run belongs to that run until its row is committed away', async (t) => {
  await clearSessions();
  const i = await interruptedUpload('owned');
  t.after(() => i.h.close());

  const { runId } = await rerun(i);

  const rows = await sessionRows(url);
  assert.equal(rows.length, 1, 'the drive does not delete the row: the group commit that records the file does');
  assert.equal(Number(rows[0].run_id), runId);
});

/** What makes a saved session unusable, and whether the drive must ask the server to find out. */
const clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };
const spoilers: Array<[string, (i: Interrupted) => Promise<void>, { asksServer: boolean; emulator?: Parameters<typeof startHarness>[0] }]> = [
  [
    'whose file had a same-size edit with its mtime put back',
    async (i) => {
      const edited = Buffer.from(i.bytes);
      edited[10] ^= 0xff;
      const { mtime } = statSync(i.absPath);
      await writeFile(i.absPath, edited);
      await utimes(i.absPath, mtime, mtime);
      i.bytes = edited;
    },
    { asksServer: false },
  ],
  ['whose recorded expiry has passed', () => withClient(url, (c) => c.query("UPDATE corporate.vmb_upload_sessions SET expires_at = now() - interval '1 second'")).then(() => undefined), { asksServer: false }],
  ['created more than 23 hours ago', () => withClient(url, (c) => c.query("UPDATE corporate.vmb_upload_sessions SET created_at = now() - interval '23 hours 1 minute'")).then(() => undefined), { asksServer: false }],
  ['that the server no longer knows (404)', async (i) => i.h.emulator.faults.expireSessions(), { asksServer: true }],
  ['whose upload URL was denied (403)', async (i) => i.h.emulator.faults.denySessions(), { asksServer: true }],
  [
    'whose upload URL’s token died at 24 hours (401)',
    async () => {
      clock.offsetMs = 24 * 3600_000;
    },
    { asksServer: true, emulator: { sessionTokenLifetimeMs: 24 * 3600_000, sessionLifetimeMs: 48 * 3600_000 } },
  ],
];

for (const [label, spoil, { asksServer, emulator }] of spoilers) {
  test(`a saved session ${label} is abandoned: cancelled, forgotten, and the file sent again whole as one item`, async (t) => {
    await clearSessions();
    clock.offsetMs = 0;
    const i = await interruptedUpload('spoiled', 3 * CHUNK, { ...emulator, clock: clock.now });
    t.after(() => i.h.close());
    const [old] = i.h.emulator.uploadSessions();
    await spoil(i);

    const { uploaded } = await rerun(i);

    const trace = sessionTrace(i.h.emulator);
    assert.equal(trace[0], asksServer ? `GET ${trace[0].split(' ')[1]}` : 'DELETE 204', trace.join(', '));
    if (asksServer) assert.match(trace[0], /^GET 40[134]$/, 'the server said the session is gone');
    assert.ok(trace.includes('POST create 200'), 'a new session');
    assert.deepEqual(
      trace.filter((x) => x.startsWith('PUT')),
      [0, 1, 2, 3, 4, 5, 6, 7].map((n) => `PUT ${n * CHUNK} 202`).concat(`PUT ${8 * CHUNK} 201`),
      'every byte sent again, from the first',
    );
    assert.equal(uploaded.resumedBytes, 0);
    assert.equal(uploaded.localHash, quickXorHashBase64(i.bytes));
    assert.equal(uploaded.remoteHash, uploaded.localHash);
    if (!asksServer) assert.equal(i.h.emulator.uploadSessions().find((s) => s.id === old.id)?.state, 'cancelled', 'the old session was cancelled');
    assert.equal(i.h.emulator.items().filter((x) => x.path.startsWith('/vmb/in/')).length, 1, 'exactly one item');
    assert.ok(i.h.emulator.itemByPath(`/vmb/${i.remotePath}`)?.content?.equals(i.bytes), 'the drive holds the file as it is now');
    const rows = await sessionRows(url);
    assert.equal(rows.length, 1, 'the new session is saved in place of the old');
    assert.ok(!rows[0].upload_url.includes(old.id));
  });
}

test('a same-size edit the fingerprint cannot see is caught by the hash check at the end of the continued upload', async (t) => {
  await clearSessions();
  const i = await interruptedUpload('unseen');
  t.after(() => i.h.close());
  // The first chunk changes on disk, but the saved fingerprint is made to match the file as it is
  // now, as if ctime and inode could not tell (a clock set back, a file system that keeps no ctime).
  const edited = Buffer.from(i.bytes);
  edited[5] ^= 0xff;
  await writeFile(i.absPath, edited);
  const now = i.h.source(i.absPath).fingerprint;
  await withClient(url, (c) =>
    c.query('UPDATE corporate.vmb_upload_sessions SET source_mtime_ns = $1, source_ctime_ns = $2, source_ino = $3, source_dev = $4', [now.mtimeNs, now.ctimeNs, now.ino, now.dev]),
  );

  await assert.rejects(rerun(i), { code: 'hash-mismatch' });
  // hash-mismatch is retryable: the worker uploads the file again, and the spent session is let go.
  const { uploaded } = await rerun(i);

  assert.equal(uploaded.resumedBytes, 0);
  assert.equal(uploaded.remoteHash, quickXorHashBase64(edited));
  assert.ok(i.h.emulator.itemByPath(`/vmb/${i.remotePath}`)?.content?.equals(edited), 'the drive holds the new bytes');
  assert.equal(i.h.emulator.items().filter((x) => x.path.startsWith('/vmb/in/')).length, 1);
});
