import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { ledgerAddress } from '../../src/ledger/address.js';
import {
  connectLockClient,
  findLockHolder,
  markDeadRunsInterrupted,
  recordRunLock,
  runLockKey,
  tryLockRun,
  unlockRun,
  waitLockRun,
  type LockSession,
} from '../../src/ledger/run-lock.js';
import { insertRun } from '../../src/ledger/statements.js';
import { runCli } from '../support/cli.js';
import { freshDatabase, withClient } from '../support/database.js';

// At the top level: freshDatabase registers its clean-up with after(), which must belong to the file.
const { url } = await freshDatabase('run_lock');
const sessions: LockSession[] = [];

before(async () => {
  const r = await runCli(['migrate', '--database-url', url]);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await Promise.all(sessions.map((s) => s.close()));
});

/** A dedicated lock connection, as a run would open it; `lost` records a server-side loss. */
async function session(): Promise<LockSession & { lost: Error[] }> {
  const lost: Error[] = [];
  const s = await connectLockClient(ledgerAddress(url, {}), 'vmb-test/lock', (err) => lost.push(err));
  sessions.push(s);
  return { ...s, lost };
}

/** A run row as the importer writes it, tied to the lock session `c`. */
async function startRun(c: pg.Client, root: string, key: bigint): Promise<{ id: number; startedAt: Date }> {
  const run = await insertRun(c, { importRoot: root, driveId: 'local', remoteRoot: '/', options: {}, host: os.hostname(), pid: process.pid, version: 'test' });
  await recordRunLock(c, run.id, key);
  return run;
}

async function runRow(id: number): Promise<{ status: string; finished_at: Date | null }> {
  return withClient(url, async (c) => (await c.query('SELECT status, finished_at FROM corporate.vmb_import_runs WHERE id = $1', [id])).rows[0]);
}

/** Roots whose keys have the sign bit set and clear, so both halves of the key space are exercised. */
function rootsBySign(prefix: string): { negative: string; positive: string } {
  const found: { negative?: string; positive?: string } = {};
  for (let i = 0; !found.negative || !found.positive; i++) {
    const root = `/data/${prefix}-${i}`;
    if (runLockKey(root, 'local', '/') < 0n) found.negative ??= root;
    else found.positive ??= root;
  }
  return found as { negative: string; positive: string };
}

test('the lock key is stable and differs for another root, drive or remote root', () => {
  const key = runLockKey('/data/in', 'drive-1', '/vmb');
  assert.equal(runLockKey('/data/in', 'drive-1', '/vmb'), key);
  assert.notEqual(runLockKey('/data/in2', 'drive-1', '/vmb'), key);
  assert.notEqual(runLockKey('/data/in', 'drive-2', '/vmb'), key);
  assert.notEqual(runLockKey('/data/in', 'drive-1', '/other'), key);
  assert.notEqual(runLockKey('/data/in', 'drive-1/vmb', ''), key, 'the parts do not run into each other');
  assert.ok(key >= -(2n ** 63n) && key < 2n ** 63n, 'fits a bigint');
});

test('the lock is exclusive across two sessions until its holder unlocks it', async () => {
  const key = runLockKey('/data/exclusive', 'local', '/');
  const a = await session();
  const b = await session();

  assert.equal(await tryLockRun(a.client, key), true);
  assert.equal(await tryLockRun(b.client, key), false);
  assert.equal(await tryLockRun(b.client, runLockKey('/data/other', 'local', '/')), true, 'another root is not blocked');

  assert.equal(await unlockRun(a.client, key), true);
  assert.equal(await tryLockRun(b.client, key), true);
  assert.equal(await tryLockRun(a.client, key), false);
  assert.equal(await unlockRun(a.client, key), false, 'a session that does not hold the lock cannot release it');
});

for (const sign of ['negative', 'positive'] as const) {
  test(`the holder of a ${sign} key is found with its run id, host, pid and start time`, async () => {
    const root = rootsBySign('holder')[sign];
    const key = runLockKey(root, 'local', '/');
    const a = await session();
    const b = await session();
    assert.equal(await findLockHolder(b.client, key), null, 'nobody holds it yet');

    assert.equal(await tryLockRun(a.client, key), true);
    const run = await startRun(a.client, root, key);
    const holder = await findLockHolder(b.client, key);

    const backendPid = (await a.client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    assert.deepEqual(holder, { runId: run.id, host: os.hostname(), pid: process.pid, startedAt: run.startedAt, backendPid });
    await unlockRun(a.client, key);
    assert.equal(await findLockHolder(b.client, key), null, 'released');
  });
}

test('a holder that has not recorded a run row yet is reported by its session', async () => {
  const key = runLockKey('/data/no-row-yet', 'local', '/');
  const a = await session();
  const b = await session();
  assert.equal(await tryLockRun(a.client, key), true);

  const holder = await findLockHolder(b.client, key);

  assert.ok(holder);
  assert.equal(holder.runId, null);
  assert.equal(holder.pid, null);
  assert.equal(holder.host, '127.0.0.1');
  assert.ok(holder.startedAt instanceof Date);
  await unlockRun(a.client, key);
});

test("the server releases a dead session's lock and markDeadRunsInterrupted marks its run row", async () => {
  const root = '/data/dead';
  const key = runLockKey(root, 'local', '/');
  const a = await session();
  const b = await session();
  assert.equal(await tryLockRun(a.client, key), true);
  assert.deepEqual(await markDeadRunsInterrupted(a.client, root, 'local', '/'), [], 'no earlier run');
  const dead = await startRun(a.client, root, key);
  const other = await startRun(b.client, '/data/dead-other-root', runLockKey('/data/dead-other-root', 'local', '/'));
  assert.equal(await tryLockRun(b.client, key), false);

  const holder = await findLockHolder(b.client, key);
  await withClient(url, (c) => c.query('SELECT pg_terminate_backend($1)', [holder!.backendPid]));

  assert.equal(await waitLockRun(b.client, key, 5_000), true, 'the lock was released with the session');
  assert.equal(a.lost.length, 1, 'the holder was told it lost the lock');
  assert.deepEqual(await markDeadRunsInterrupted(b.client, root, 'local', '/'), [dead.id]);
  const row = await runRow(dead.id);
  assert.equal(row.status, 'interrupted');
  assert.ok(row.finished_at instanceof Date);
  assert.equal((await runRow(other.id)).status, 'running', 'a run of another root is left alone');
  await unlockRun(b.client, key);
});

test('waitLockRun succeeds once the holder unlocks', async () => {
  const key = runLockKey('/data/wait', 'local', '/');
  const a = await session();
  const b = await session();
  assert.equal(await tryLockRun(a.client, key), true);

  const started = Date.now();
  setTimeout(() => void unlockRun(a.client, key), 800);
  const got = await waitLockRun(b.client, key, 10_000);

  assert.equal(got, true);
  const waited = Date.now() - started;
  assert.ok(waited >= 700 && waited < 5_000, `waited ${waited} ms`);
  assert.equal(await tryLockRun(a.client, key), false, 'the waiter holds it now');
  await unlockRun(b.client, key);
});

test('waitLockRun gives up after the timeout', async () => {
  const key = runLockKey('/data/timeout', 'local', '/');
  const a = await session();
  const b = await session();
  assert.equal(await tryLockRun(a.client, key), true);

  const started = Date.now();
  const got = await waitLockRun(b.client, key, 1_200);

  assert.equal(got, false);
  const waited = Date.now() - started;
  assert.ok(waited >= 1_150 && waited < 4_000, `waited ${waited} ms`);
  await unlockRun(a.client, key);
});

test('waitLockRun stops waiting when its signal is aborted', async () => {
  const key = runLockKey('/data/abort', 'local', '/');
  const a = await session();
  const b = await session();
  assert.equal(await tryLockRun(a.client, key), true);

  const started = Date.now();
  const got = await waitLockRun(b.client, key, 30_000, AbortSignal.timeout(700));

  assert.equal(got, false);
  assert.ok(Date.now() - started < 5_000);
  await unlockRun(a.client, key);
});
