import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { quickXorHashBase64 } from '../../src/hash/quickxorhash.js';
import { freshDatabase } from '../support/database.js';
import { runCli, runJson, startCli, type CliResult } from '../support/cli.js';
import { waitFor } from '../support/faults.js';
import { assertLedgerMatchesFiles, items } from '../support/ledger.js';
import { sessionRows } from '../support/sessions.js';
import { makeTree, tempDir } from '../support/trees.js';
import { startGraphEmulator, type GraphEmulator, type UploadSessionInfo } from '../support/graph-emulator/server.js';

const CHUNK = 327_680;
const FRAGMENT = 2 * CHUNK;
const MiB = 1024 * 1024;

let emulator: GraphEmulator;
before(async () => {
  emulator = await startGraphEmulator({ simpleUploadMax: 4 * MiB, storeContent: true });
});
after(() => emulator.close());
beforeEach(() => emulator.faults.reset());

const onedrive = (db: string, root: string) => [
  '--target', 'onedrive', '--graph-url', emulator.url, '--drive-id', emulator.driveId, '--remote-root', root, '--database-url', db,
  '--chunk-size', String(FRAGMENT), '--simple-upload-max', String(4 * MiB),
];
const env = () => ({ VMB_GRAPH_TOKEN: emulator.token });

function patterned(size: number, seed = 0): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 131 + seed + (i >>> 12)) & 0xff;
  return bytes;
}

/** The large file of the test running: each test has its own name, since the emulator keeps every session it had. */
let bigName = '';

/** A tree of a few small files and one large file `8/<name>`. */
async function treeWithBigFile(size: number, name: string): Promise<{ src: string; files: string[]; big: string; bytes: Buffer }> {
  bigName = name;
  const src = await tempDir('src');
  const files = await makeTree(src, { corps: [8], folders: [''], filesPerFolder: 3, size: () => 100 });
  const bytes = patterned(size);
  await mkdir(path.join(src, '8'), { recursive: true });
  const big = path.join(src, '8', name);
  await writeFile(big, bytes);
  return { src, files: [...files, `8/${name}`], big, bytes };
}

/** The emulator's newest session of the large file. */
function bigSession(): UploadSessionInfo | undefined {
  return emulator.uploadSessions().filter((s) => s.name === bigName).at(-1);
}

/** Bytes the importer sent in fragments so far, over every session: taken, cut off or refused. */
function fragmentBytes(): number {
  return emulator.uploadSessions().reduce((n, s) => n + s.bytesAccepted + s.bytesCutOff + s.bytesRefused, 0);
}

/** Starts a run and waits until the server has taken `fragments` fragments of the large file. */
async function startAndWaitForFragments(args: string[], fragments: number) {
  const run = startCli([...args, '--json', '--no-progress'], env());
  await waitFor(`${fragments} fragments of ${bigName}`, () => (bigSession()?.fragmentsAccepted ?? 0) >= fragments, 60_000, 10);
  return run;
}

function summaryOf(r: CliResult): Record<string, any> {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`no JSON summary (exit ${r.code}, signal ${r.signal}); stderr:\n${r.stderr}`);
  }
}

/** Tree, drive and ledger agree: a row per file with the file's hash, each the drive's item, one item per path. */
async function assertAllAgree(db: string, root: string, src: string, files: string[]): Promise<void> {
  const rows = await items(db);
  await assertLedgerMatchesFiles(rows, src, files);
  for (const row of rows) assert.equal(emulator.itemByPath(`${root}/${row.remote_path}`)?.id, row.onedrive_item_id, `drive item of ${row.remote_path}`);
  const onDrive = emulator.items().filter((x) => x.path.startsWith(`${root}/`) && !x.isFolder);
  assert.equal(onDrive.length, files.length, `one item per file on the drive: ${onDrive.map((x) => x.path).join(', ')}`);
}

test('kill -9 mid-upload: the next run continues the session, re-sending at most what the server had not confirmed plus one fragment, and tree, drive and ledger agree', async () => {
  const db = await freshDatabase('resume_kill9');
  const root = '/resume-kill9';
  const { src, files, bytes } = await treeWithBigFile(48 * FRAGMENT + 999, 'kill9.bin');
  emulator.faults.latencyMs = 20;
  const doomed = await startAndWaitForFragments([src, '--threads', '1', ...onedrive(db.url, root)], 8);
  doomed.child.kill('SIGKILL');
  await doomed.done;
  // The fragment in flight at the kill may still be taken (or cut off) by the server: count after it settles.
  await waitFor('the fragment in flight at the kill to settle', () => emulator.requests().every((q) => q.endedAt !== undefined), 10_000, 10);
  const left = { ...bigSession()! };
  const sentBefore = fragmentBytes();
  assert.equal((await sessionRows(db.url)).length, 1, 'the session was in the ledger before the process died');
  emulator.faults.latencyMs = 0;

  const r = await runJson([src, ...onedrive(db.url, root)], env());

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.resumed, 1);
  assert.equal(r.summary.bytesNotResent, left.received);
  const resent = fragmentBytes() - sentBefore - (bytes.length - left.received);
  assert.ok(resent <= FRAGMENT, `re-sent ${resent} bytes the server already had; at most one fragment (${FRAGMENT})`);
  assert.equal(emulator.uploadSessions().filter((s) => s.name === bigName).length, 1, 'the same session, no new one');
  assert.equal(emulator.itemByPath(`${root}/8/${bigName}`)?.quickXorHash, quickXorHashBase64(bytes));
  await assertAllAgree(db.url, root, src, files);
  assert.deepEqual(await sessionRows(db.url), [], 'the commit of the file deleted its session row');
});

test('a same-size edit between runs, its mtime put back, is not continued: the next run sends the new bytes whole', async () => {
  const db = await freshDatabase('resume_edit');
  const root = '/resume-edit';
  const { src, files, big, bytes } = await treeWithBigFile(24 * FRAGMENT, 'edited.bin');
  emulator.faults.latencyMs = 20;
  const doomed = await startAndWaitForFragments([src, '--threads', '1', ...onedrive(db.url, root)], 4);
  doomed.child.kill('SIGKILL');
  await doomed.done;
  const old = bigSession()!;
  const { mtime } = statSync(big);
  const edited = Buffer.from(bytes);
  edited[7] ^= 0xff;
  await writeFile(big, edited);
  await utimes(big, mtime, mtime);
  emulator.faults.latencyMs = 0;

  const r = await runJson([src, ...onedrive(db.url, root)], env());

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.resumed, 0);
  assert.equal(emulator.uploadSessions().find((s) => s.id === old.id)?.state, 'cancelled', 'the old session was cancelled');
  assert.ok(emulator.itemByPath(`${root}/8/${bigName}`)?.content?.equals(edited), 'the drive holds the new bytes');
  await assertAllAgree(db.url, root, src, files);
  assert.deepEqual(await sessionRows(db.url), []);
});

test('--max-runtime bounds a run with a large upload in flight: partial, exit 0, the session kept for the next run, which finishes the file', async (t) => {
  const db = await freshDatabase('resume_max_runtime');
  const root = '/resume-max-runtime';
  // 200 fragments at 150 ms a request: the upload alone takes at least 30 s.
  const { src, files, bytes } = await treeWithBigFile(200 * FRAGMENT, 'bounded.bin');
  emulator.faults.latencyMs = 150;

  const started = Date.now();
  const r = await runJson([src, '--threads', '1', '--max-runtime', '6s', ...onedrive(db.url, root)], env());
  const tookMs = Date.now() - started;
  t.diagnostic(`--max-runtime 6s: the run took ${tookMs} ms`);

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.status, 'partial');
  assert.ok(tookMs < 26_000, `the run took ${tookMs} ms; the bound is 6 s (and a generous margin)`);
  assert.equal(r.summary.leftForNextRun, 1, 'the large file was stopped, not failed');
  assert.equal(r.summary.failed, 0);
  const left = bigSession()!;
  assert.equal(left.state, 'open', 'the session was kept, not cancelled');
  assert.ok(left.received > 0 && left.received < bytes.length);
  const [row] = await sessionRows(db.url);
  assert.equal(Number(row.run_id), r.summary.runId);
  assert.equal(Number(row.bytes_confirmed), left.received, 'its progress was saved when it stopped');
  const runs = JSON.parse((await runJsonHistory(db.url)).stdout);
  assert.equal(runs.find((x: any) => x.id === r.summary.runId).sessionsOpen, 1, '`runs` shows the session left open');
  emulator.faults.latencyMs = 0;

  const next = await runJson([src, ...onedrive(db.url, root)], env());

  assert.equal(next.code, 0, next.stderr);
  assert.equal(next.summary.resumed, 1);
  assert.equal(next.summary.bytesNotResent, left.received);
  await assertAllAgree(db.url, root, src, files);
  assert.deepEqual(await sessionRows(db.url), []);
  const after = JSON.parse((await runJsonHistory(db.url)).stdout);
  assert.equal(after.find((x: any) => x.id === r.summary.runId).sessionsOpen, 0);
});

function runJsonHistory(db: string): Promise<CliResult> {
  return runCli(['runs', '--json', '--database-url', db]);
}

test('SIGTERM after the last file was dispatched: the grace bounds the run, which ends interrupted with exit 143 and its session kept', async (t) => {
  const db = await freshDatabase('resume_grace');
  const root = '/resume-grace';
  const { src } = await treeWithBigFile(200 * FRAGMENT, 'graced.bin');
  emulator.faults.latencyMs = 150;
  const run = await startAndWaitForFragments([src, '--threads', '1', '--grace', '1s', ...onedrive(db.url, root)], 3);

  const signalled = Date.now();
  run.child.kill('SIGTERM');
  const r = await run.done;
  const tookMs = Date.now() - signalled;
  t.diagnostic(`--grace 1s: the run ended ${tookMs} ms after SIGTERM`);

  assert.equal(r.code, 143, r.stderr);
  const summary = summaryOf(r);
  assert.equal(summary.status, 'interrupted');
  assert.ok(tookMs < 21_000, `the run went on ${tookMs} ms after SIGTERM; the grace is 1 s (and a generous margin)`);
  assert.equal(summary.leftForNextRun, 1);
  assert.equal(summary.failed, 0);
  assert.equal(bigSession()?.state, 'open');
  assert.equal((await sessionRows(db.url)).length, 1);
});

test('a second signal stops the upload at once, and its session is still kept for the next run', async (t) => {
  const db = await freshDatabase('resume_second_signal');
  const root = '/resume-second-signal';
  const { src, files } = await treeWithBigFile(200 * FRAGMENT, 'forced.bin');
  emulator.faults.latencyMs = 150;
  const run = await startAndWaitForFragments([src, '--threads', '1', '--grace', '10m', ...onedrive(db.url, root)], 3);

  run.child.kill('SIGTERM');
  await sleep(300);
  const signalled = Date.now();
  run.child.kill('SIGTERM');
  const r = await run.done;
  const tookMs = Date.now() - signalled;
  t.diagnostic(`the run ended ${tookMs} ms after the second SIGTERM`);

  assert.equal(r.code, 143, r.stderr);
  assert.ok(tookMs < 20_000, `the run went on ${tookMs} ms after the second SIGTERM`);
  assert.equal(summaryOf(r).leftForNextRun, 1);
  assert.equal((await sessionRows(db.url)).length, 1);
  emulator.faults.latencyMs = 0;

  const next = await runJson([src, ...onedrive(db.url, root)], env());
  assert.equal(next.code, 0, next.stderr);
  assert.equal(next.summary.resumed, 1);
  await assertAllAgree(db.url, root, src, files);
});
