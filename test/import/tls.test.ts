import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freshDatabase, serverUrl, withClient } from '../support/database.js';
import { runCli, runJson } from '../support/cli.js';
import { assertChildCountsExact, assertLedgerMatchesFiles, items } from '../support/ledger.js';
import { makeTree, tempDir } from '../support/trees.js';

/**
 * `sslmode` in --database-url means what it means to libpq and psql. The test server (started by
 * test/support/run-tests.ts) serves TLS with test/fixtures/tls/server.crt, signed by the test CA
 * ca.crt there, which nothing trusts by default: the importer runs with only PATH and HOME in its
 * environment (no NODE_EXTRA_CA_CERTS), so only an sslrootcert / PGSSLROOTCERT makes it trusted.
 */
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/tls/', import.meta.url));
const TEST_CA = path.join(FIXTURES, 'ca.crt');
/** A self-signed certificate unrelated to the test CA: the wrong root for the test server. */
const WRONG_CA = path.join(FIXTURES, 'selfsigned.crt');

const skip =
  process.env.TEST_PG_TLS === '1'
    ? false
    : 'the test server does not serve TLS with test/fixtures/tls/server.crt (TEST_DATABASE_URL was given without TEST_PG_TLS=1)';

const THREADS = 8;
/** 2 corps × 5 folders × 200 files. */
const TREE = { corps: [1, 2], folders: ['', 'a', 'a/b', 'c', 'c/d'], filesPerFolder: 200 };
const UNCLEAN_CLOSE = /unexpected EOF|connection reset|could not receive data|SSL error|decryption failed|bad record mac/i;
const TLS_TROUBLE = /SSL|TLS|certificate|self[- ]signed|ECONNRESET|EPROTO|bad record mac|decryption failed/i;

/** The plain test URL turned into one for `database` over TLS: host replaced, query params added. */
function tlsUrl(database: string, params: Record<string, string>, host?: string): string {
  const u = new URL(serverUrl());
  u.pathname = `/${database}`;
  if (host) u.hostname = host;
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

interface Backend {
  app: string;
  ssl: boolean;
}

/** Poll pg_stat_ssl while a run goes on: every importer backend of `database`, and whether it used TLS. */
function watchImporterBackends(database: string) {
  const seen = new Map<number, Backend>();
  let stopped = false;
  const done = withClient(serverUrl(), async (c) => {
    while (!stopped) {
      const r = await c.query<{ pid: number; app: string; ssl: boolean | null }>(
        `SELECT a.pid, a.application_name AS app, s.ssl
           FROM pg_stat_activity a LEFT JOIN pg_stat_ssl s ON s.pid = a.pid
          WHERE a.datname = $1 AND a.application_name LIKE 'vmb-import/%'`,
        [database],
      );
      for (const row of r.rows) if (!seen.has(row.pid) || !row.ssl) seen.set(row.pid, { app: row.app, ssl: row.ssl === true });
      await sleep(5);
    }
  });
  return {
    stop: async () => {
      stopped = true;
      await done;
      return seen;
    },
  };
}

/** The lines the server logged for `database` (run-tests.ts tags each line with `db=<name> `). */
async function serverLogLines(database: string): Promise<string[] | null> {
  const log = process.env.TEST_PG_LOG;
  if (!log) return null;
  await sleep(300);
  return (await readFile(log, 'utf8')).split('\n').filter((l) => l.includes(`db=${database} `));
}

/**
 * Import ~2,000 files at 8 threads into a fresh database reached through `urlFor(name)` with `env`,
 * and check everything the run must get right over TLS.
 */
async function assertCleanImportOverTls(label: string, urlFor: (database: string) => string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const db = await freshDatabase(label);
  // DEBUG1 for this database only: an abrupt close then shows as "unexpected EOF on client
  // connection", and over TLS also as "could not receive data from client: Connection reset by peer".
  await withClient(serverUrl(), (c) => c.query(`ALTER DATABASE ${pg.escapeIdentifier(db.name)} SET log_min_messages = 'debug1'`));
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const files = await makeTree(src, TREE);
  const watcher = watchImporterBackends(db.name);

  const r = await runJson([src, '--threads', String(THREADS), '--database-url', urlFor(db.name), '--local-root', drive], env);
  const backends = await watcher.stop();

  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, TLS_TROUBLE, 'no TLS trouble reported on stderr');
  assert.equal(r.summary.uploaded, files.length);
  assert.equal(r.summary.failed, 0);
  assert.equal(r.summary.threads.threads, THREADS);
  assert.equal(r.summary.threads.closed, THREADS, 'every thread confirmed closing');

  const workers = [...backends.values()].filter((b) => b.app === 'vmb-import/worker');
  assert.ok(workers.length > 0, 'the watcher saw the worker backends');
  assert.ok(workers.length <= THREADS, `no more worker backends than threads (saw ${workers.length})`);
  assert.deepEqual(
    [...backends.values()].filter((b) => !b.ssl),
    [],
    'every importer backend used TLS',
  );

  const rows = await items(db.url);
  await assertLedgerMatchesFiles(rows, src, files);
  assertChildCountsExact(rows);

  const lines = await serverLogLines(db.name);
  if (lines) {
    assert.ok(
      lines.some((l) => l.includes('DEBUG')),
      'debug logging reached this database',
    );
    assert.deepEqual(
      lines.filter((l) => UNCLEAN_CLOSE.test(l)),
      [],
      'every connection closed cleanly',
    );
  }
}

/** A run that must stop before importing anything: exit 2, one line about TLS, no stack trace. */
async function assertTlsRefusal(label: string, urlFor: (database: string) => string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const db = await freshDatabase(label);
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  await makeTree(src, { corps: [1], folders: [''], filesPerFolder: 3 });

  const r = await runCli([src, '--threads', '2', '--database-url', urlFor(db.name), '--local-root', drive, '--no-progress'], env);

  assert.equal(r.code, 2, `exit 2; stderr:\n${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr:\n${r.stderr}`);
  assert.match(lines[0], /TLS|certificate/i);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.doesNotMatch(r.stderr, /:test@/, 'the password is not shown');
  const schema = await withClient(db.url, (c) => c.query("SELECT to_regclass('corporate.vmb_items') AS t"));
  assert.equal(schema.rows[0].t, null, 'nothing was written to the database');
}

test('sslmode=require imports 2,000 files at 8 threads over TLS without verifying the untrusted server certificate, every row right and every connection closed cleanly', { skip }, async () => {
  await assertCleanImportOverTls('tls_require', (name) => tlsUrl(name, { sslmode: 'require' }));
});

test('sslmode=verify-full with sslrootcert in the URL imports 2,000 files at 8 threads over verified TLS, every row right and every connection closed cleanly', { skip }, async () => {
  await assertCleanImportOverTls('tls_verify_url', (name) => tlsUrl(name, { sslmode: 'verify-full', sslrootcert: TEST_CA }, 'localhost'));
});

test('sslmode=verify-full with the root certificate from PGSSLROOTCERT imports 2,000 files at 8 threads over verified TLS, every row right and every connection closed cleanly', { skip }, async () => {
  await assertCleanImportOverTls('tls_verify_env', (name) => tlsUrl(name, { sslmode: 'verify-full' }, 'localhost'), { PGSSLROOTCERT: TEST_CA });
});

test('sslmode=verify-full without a root certificate stops with exit 2 and one line about the certificate', { skip }, async () => {
  await assertTlsRefusal('tls_no_root', (name) => tlsUrl(name, { sslmode: 'verify-full' }, 'localhost'));
});

test('sslmode=verify-full with an unrelated self-signed certificate as sslrootcert stops with exit 2 and one line about the certificate', { skip }, async () => {
  await assertTlsRefusal('tls_wrong_root', (name) => tlsUrl(name, { sslmode: 'verify-full', sslrootcert: WRONG_CA }, 'localhost'));
});

test('sslmode=verify-full with the wrong root certificate from PGSSLROOTCERT stops with exit 2 and one line about the certificate', { skip }, async () => {
  await assertTlsRefusal('tls_wrong_env', (name) => tlsUrl(name, { sslmode: 'verify-full' }, 'localhost'), { PGSSLROOTCERT: WRONG_CA });
});
