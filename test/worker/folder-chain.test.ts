import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { ledgerAddress } from '../../src/ledger/address.js';
import { migrate } from '../../src/ledger/migrate.js';
import { LedgerConnection } from '../../src/ledger/connection.js';
import { LocalDrive } from '../../src/drives/local/local-drive.js';
import { FolderChain } from '../../src/worker/folder-chain.js';
import { freshDatabase, withClient } from '../support/database.js';
import { assertChildCountsExact, items } from '../support/ledger.js';
import { tempDir } from '../support/trees.js';

interface Ledger {
  url: string;
  target: LocalDrive;
  runId: number;
}

async function freshLedger(): Promise<Ledger> {
  const db = await freshDatabase('folder_chain');
  await withClient(db.url, (c) => migrate(c));
  const target = new LocalDrive({ kind: 'local', root: await tempDir('drive') });
  const runId = await withClient(db.url, async (c) => {
    const r = await c.query<{ id: string }>(
      `INSERT INTO corporate.vmb_import_runs (import_root, drive_id, remote_root, host, pid, vmb_version) VALUES ('/src', $1, $2, 'test', 1, 'test') RETURNING id`,
      [target.driveId, target.remoteRoot],
    );
    return Number(r.rows[0].id);
  });
  return { url: db.url, target, runId };
}

/** A thread's folder chain on a real connection, counting the units of work it hands to it. */
function threadChain(t: TestContext, ledger: Ledger) {
  const client = new LedgerConnection(ledgerAddress(ledger.url, {}), { applicationName: 'vmb-test/folder-chain' });
  t.after(() => client.close());
  let units = 0;
  const run = client.run.bind(client);
  client.run = <T>(work: (c: pg.Client) => Promise<T>, attempts?: number) => {
    units++;
    return run(work, attempts);
  };
  const { target } = ledger;
  const chain = new FolderChain(client, () => target, { driveId: target.driveId, remoteRoot: target.remoteRoot }, ledger.runId);
  return { chain, units: () => units };
}

const newTally = () => ({ foldersCreated: 0, retries: 0 });

test('tasks arriving together for a new folder share one lookup and one creation per folder', async (t) => {
  const ledger = await freshLedger();
  const { chain, units } = threadChain(t, ledger);
  const tally = newTally();

  const ids = await Promise.all(Array.from({ length: 50 }, () => chain.ensure(7, ['7', 'inbox'], ['7', '7/inbox'], tally)));

  assert.equal(new Set(ids).size, 1);
  assert.equal(tally.foldersCreated, 2);
  assert.equal(units(), 3, 'one lookup for both folders, then one insert per folder');
  const rows = await items(ledger.url);
  assert.deepEqual(rows.map((r) => r.remote_path), ['7', '7/inbox']);
  assertChildCountsExact(rows);
});

test('a thread that meets folders another thread created finds them with one shared lookup', async (t) => {
  const ledger = await freshLedger();
  const id = await threadChain(t, ledger).chain.ensure(8, ['8', 'a'], ['8', '8/a'], newTally());
  const other = threadChain(t, ledger);
  const tally = newTally();

  const ids = await Promise.all(Array.from({ length: 20 }, () => other.chain.ensure(8, ['8', 'a'], ['8', '8/a'], tally)));

  assert.deepEqual([...new Set(ids)], [id]);
  assert.equal(tally.foldersCreated, 0);
  assert.equal(other.units(), 1);
  assert.equal((await items(ledger.url)).length, 2);
});

test('a folder the thread already knows costs no database work', async (t) => {
  const ledger = await freshLedger();
  const { chain, units } = threadChain(t, ledger);
  await chain.ensure(9, ['9', 'b'], ['9', '9/b'], newTally());
  const before = units();

  await chain.ensure(9, ['9', 'b'], ['9', '9/b'], newTally());

  assert.equal(units(), before);
});
