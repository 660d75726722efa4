import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freshDatabase, withClient } from '../support/database.js';
import { startCli } from '../support/cli.js';
import { assertLedgerMatchesFiles, items } from '../support/ledger.js';
import { makeTree, tempDir } from '../support/trees.js';

const WORKER_APP = 'vmb-import/worker';

/** Poll pg_stat_activity while a run goes on: every worker backend pid seen, and the most at once. */
function watchBackends(url: string, database: string) {
  const pids = new Set<number>();
  let most = 0;
  let stopped = false;
  const done = withClient(url, async (c) => {
    while (!stopped) {
      const r = await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [database, WORKER_APP]);
      for (const row of r.rows) pids.add(row.pid);
      most = Math.max(most, r.rows.length);
      await sleep(10);
    }
  });
  return {
    stop: async () => {
      stopped = true;
      await done;
      return { pids, most };
    },
  };
}

test('each worker thread opens one connection, lazily, and closes it cleanly at the end of the run', async () => {
  const db = await freshDatabase('conns');
  // Log every backend's DEBUG1 lines for this database only: an abrupt close shows as
  // "unexpected EOF on client connection".
  await withClient(process.env.TEST_DATABASE_URL!, (c) => c.query(`ALTER DATABASE ${db.name} SET log_min_messages = 'debug1'`));
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const files = await makeTree(src, { corps: [1, 2], folders: ['', 'a', 'b'], filesPerFolder: 150 });
  const watcher = watchBackends(process.env.TEST_DATABASE_URL!, db.name);

  const run = startCli([src, '--threads', '4', '--database-url', db.url, '--local-root', drive, '--json', '--no-progress']);
  const r = await run.done;
  const seen = await watcher.stop();

  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.threads.threads, 4);
  assert.equal(summary.threads.closed, 4, 'every thread confirmed closing');
  assert.equal(summary.threads.connects, summary.threads.withDatabase, 'no thread opened a second connection');
  assert.ok(seen.most >= 1 && seen.most <= 4, `at most one backend per thread at once (saw ${seen.most})`);
  assert.ok(seen.pids.size <= 4, `no more backends over the run than threads (saw ${seen.pids.size})`);
  const left = await withClient(process.env.TEST_DATABASE_URL!, (c) =>
    c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE $2', [db.name, 'vmb-import/%']),
  );
  assert.equal(left.rows[0].n, 0, 'no importer backend left after the run');
  if (process.env.TEST_PG_LOG) {
    await sleep(200);
    const log = await readFile(process.env.TEST_PG_LOG, 'utf8');
    const mine = log.split('\n').filter((l) => l.includes(`db=${db.name} `));
    assert.ok(mine.some((l) => l.includes('DEBUG')), 'debug logging reached this database');
    assert.deepEqual(mine.filter((l) => /unexpected EOF|connection reset|could not receive data/i.test(l)), []);
  }
  await assertLedgerMatchesFiles(await items(db.url), src, files);
});

test('a run whose every thread had nothing to upload opens no worker connection at all', async () => {
  const db = await freshDatabase('lazy');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  await makeTree(src, { corps: [1], folders: [''], filesPerFolder: 5 });
  const args = [src, '--threads', '4', '--database-url', db.url, '--local-root', drive, '--json', '--no-progress'];
  assert.equal((await startCli(args).done).code, 0);
  const watcher = watchBackends(process.env.TEST_DATABASE_URL!, db.name);

  const r = await startCli(args).done;
  const seen = await watcher.stop();

  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).unchanged, 5);
  assert.equal(seen.pids.size, 0);
});

test('worker backends killed with pg_terminate_backend mid-run lose nothing and duplicate nothing', async () => {
  const db = await freshDatabase('kill');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const files = await makeTree(src, { corps: [1, 2], folders: ['', 'a', 'a/b', 'c'], filesPerFolder: 300, size: () => 64 });
  const run = startCli([src, '--threads', '4', '--batch-size', '16', '--database-url', db.url, '--local-root', drive, '--json', '--no-progress']);
  let killed = 0;
  let finished = false;
  void run.done.then(() => (finished = true));
  await withClient(process.env.TEST_DATABASE_URL!, async (c) => {
    for (let round = 0; round < 3 && !finished; ) {
      const r = await c.query<{ ok: boolean }>(
        'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
        [db.name, WORKER_APP],
      );
      if (r.rows.length > 0) {
        killed += r.rows.filter((x) => x.ok).length;
        round++;
        await sleep(150);
      } else await sleep(5);
    }
  });
  const r = await run.done;

  assert.ok(killed > 0, 'the test killed at least one worker backend while the run was going');
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.uploaded, files.length);
  assert.equal(summary.failed, 0);
  await assertLedgerMatchesFiles(await items(db.url), src, files);
});
