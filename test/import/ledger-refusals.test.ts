import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { test } from 'node:test';
import pg from 'pg';
import { runCli } from '../support/cli.js';
import { freshDatabase, serverUrl, withClient, withDatabase } from '../support/database.js';
import { makeTree, tempDir } from '../support/trees.js';

/** Exit code 2 and exactly one line on stderr that says what to fix; no stack trace. */
function assertOneLine(r: { code: number | null; stderr: string }, pattern: RegExp) {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
}

test('a read-only ledger (a standby, default_transaction_read_only) stops the run before any upload with one line and exit 2', async () => {
  const db = await freshDatabase('read_only');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  await makeTree(src, { corps: [2], folders: [''], filesPerFolder: 3 });
  // Migrated first, as a standby's schema would be; then the database refuses writes.
  assert.equal((await runCli(['migrate', '--database-url', db.url])).code, 0);
  await withClient(serverUrl(), (c) => c.query(`ALTER DATABASE ${pg.escapeIdentifier(db.name)} SET default_transaction_read_only = on`));

  const r = await runCli([src, '--database-url', db.url, '--local-root', drive, '--no-progress', '--quiet']);

  assertOneLine(r, /the ledger at .* is read-only .*--dry-run/);
  assert.deepEqual(await readdir(drive), [], 'nothing was uploaded');
});

test('a ledger user without the privilege to write stops the run with one line naming the privilege, exit 2', async () => {
  const db = await freshDatabase('no_privilege');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  await makeTree(src, { corps: [2], folders: [''], filesPerFolder: 3 });
  assert.equal((await runCli(['migrate', '--database-url', db.url])).code, 0);
  const role = `vmb_reader_${db.name.slice(-8)}`;
  await withClient(db.url, async (c) => {
    await c.query(`CREATE ROLE ${role} LOGIN PASSWORD 'reader'`);
    await c.query(`GRANT USAGE ON SCHEMA corporate TO ${role}`);
    await c.query(`GRANT SELECT ON ALL TABLES IN SCHEMA corporate TO ${role}`);
  });
  const u = new URL(withDatabase(serverUrl(), db.name));
  u.username = role;
  u.password = 'reader';

  let r;
  try {
    r = await runCli([src, '--database-url', u.toString(), '--local-root', drive, '--no-progress', '--quiet']);
  } finally {
    // Roles belong to the whole server, not to this test's database.
    await withClient(db.url, async (c) => {
      await c.query(`DROP OWNED BY ${role}`);
      await c.query(`DROP ROLE ${role}`);
    });
  }

  assertOneLine(r, /the ledger user at .* lacks a privilege \(permission denied/);
  assert.doesNotMatch(r.stderr, /reader@|:reader/, 'the password is not shown');
  assert.deepEqual(await readdir(drive), []);
});
