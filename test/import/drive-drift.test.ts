import assert from 'node:assert/strict';
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runJson } from '../support/cli.js';
import { freshDatabase } from '../support/database.js';
import { startGraphEmulator, type GraphEmulator } from '../support/graph-emulator/server.js';
import { items } from '../support/ledger.js';
import { makeTree, tempDir } from '../support/trees.js';

/** What the import does when someone changed the drive behind the ledger's back (`check` finds and mends drift). */

let emulator: GraphEmulator;
before(async () => {
  emulator = await startGraphEmulator({ storeContent: true });
});
after(() => emulator.close());

const onedrive = (db: string, root: string) => ['--target', 'onedrive', '--graph-url', emulator.url, '--drive-id', emulator.driveId, '--remote-root', root, '--database-url', db, '--threads', '2'];
const env = () => ({ VMB_GRAPH_TOKEN: emulator.token });

async function deleteOnDrive(itemPath: string): Promise<void> {
  const item = emulator.itemByPath(itemPath);
  assert.ok(item, itemPath);
  const res = await fetch(`${emulator.url}/drives/${emulator.driveId}/items/${item.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${emulator.token}` } });
  assert.equal(res.status, 204);
}

test('a file deleted on the drive after its import stays unchanged to the next import, which sends nothing for it', async () => {
  const db = await freshDatabase('drift_file');
  const src = await tempDir('src');
  const root = '/drift-file';
  const files = await makeTree(src, { corps: [5], folders: [''], filesPerFolder: 3 });
  assert.equal((await runJson([src, ...onedrive(db.url, root)], env())).code, 0);
  await deleteOnDrive(`${root}/${files[0]}`);
  emulator.resetRequests();

  const r = await runJson([src, ...onedrive(db.url, root)], env());

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.unchanged, files.length);
  assert.equal(r.summary.uploaded, 0);
  assert.ok(!emulator.requests().some((q) => q.method !== 'GET'), 'no upload, no folder creation');
  assert.ok((await items(db.url)).some((x) => x.remote_path === files[0]), 'the row stays until check --fix removes it');
});

test('a changed file whose folder was deleted on the drive fails with graph-not-found naming check --fix, and the rest of the run completes', async () => {
  const db = await freshDatabase('drift_folder');
  const src = await tempDir('src');
  const root = '/drift-folder';
  const files = await makeTree(src, { corps: [6], folders: ['a', 'b'], filesPerFolder: 2 });
  assert.equal((await runJson([src, ...onedrive(db.url, root)], env())).code, 0);
  await deleteOnDrive(`${root}/6/a`);
  const inA = files.filter((f) => f.startsWith('6/a/'));
  const inB = files.filter((f) => f.startsWith('6/b/'));
  for (const f of [...inA, ...inB]) await appendFile(path.join(src, f), 'changed');

  const r = await runJson([src, ...onedrive(db.url, root)], env());

  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.summary.uploaded, inB.length, 'the files of the folder still on the drive are uploaded');
  assert.equal(r.summary.failed, inA.length);
  for (const f of r.summary.failures) {
    assert.equal(f.code, 'graph-not-found');
    assert.match(f.reason, /gone from the drive.*vmb-import check --fix/);
  }
});
