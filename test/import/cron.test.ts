import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, utimes, writeFile, chmod } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freshDatabase, withClient } from '../support/database.js';
import { runCli, runJson, startCli } from '../support/cli.js';
import { assertChildCountsExact, assertLedgerMatchesFiles, items } from '../support/ledger.js';
import { makeTree, tempDir } from '../support/trees.js';
import { startGraphEmulator, type GraphEmulator } from '../support/graph-emulator/server.js';
import { runRow } from '../support/faults.js';

let emulator: GraphEmulator;
before(async () => {
  emulator = await startGraphEmulator({ simpleUploadMax: 4 * 1024 * 1024, storeContent: true });
});
after(() => emulator.close());
beforeEach(() => emulator.faults.reset());

const onedrive = (db: string, root: string) => ['--target', 'onedrive', '--graph-url', emulator.url, '--drive-id', emulator.driveId, '--remote-root', root, '--database-url', db];
const env = () => ({ VMB_GRAPH_TOKEN: emulator.token });

test('files modified more recently than --min-age are deferred to a later run', async () => {
  const db = await freshDatabase('min_age');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const files = await makeTree(src, { corps: [1], folders: [''], filesPerFolder: 4 });
  const old = new Date(Date.now() - 3600_000);
  for (const f of files.slice(0, 2)) await utimes(path.join(src, f), old, old);

  const r = await runJson([src, '--min-age', '60s', '--database-url', db.url, '--local-root', drive]);

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.uploaded, 2);
  assert.equal(r.summary.deferred, 2);
  const later = await runJson([src, '--database-url', db.url, '--local-root', drive]);
  assert.equal(later.summary.uploaded, 2, 'the next run without the age limit picks them up');
});

test('a file that changes while it is being uploaded is reported and not recorded, and the next run imports it', async () => {
  const db = await freshDatabase('changing');
  const src = await tempDir('src');
  const root = '/cron-changing';
  await makeTree(src, { corps: [2], folders: [''], filesPerFolder: 3, size: () => 100 });
  const growing = path.join(src, '2', 'growing.log');
  await writeFile(growing, 'first line\n');
  emulator.faults.latencyMs = 300;
  // The hook runs as the upload of growing.log reaches the drive: the writer appends meanwhile.
  emulator.faults.stall({
    count: 1,
    match: (req) => {
      if (req.method === 'PUT' && req.path.includes('growing.log')) appendFileSync(growing, 'second line\n');
      return false;
    },
  });

  const r = await runJson([src, ...onedrive(db.url, root)], env());

  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.summary.uploaded, 3);
  assert.equal(r.summary.failed, 1);
  assert.deepEqual(r.summary.failures.map((f: any) => [f.path, f.stage, f.code]), [['2/growing.log', 'verify', 'file-changed']]);
  assert.ok(!(await items(db.url)).some((x) => x.remote_path === '2/growing.log'), 'no row for the changed file');

  emulator.faults.reset();
  const next = await runJson([src, ...onedrive(db.url, root)], env());
  assert.equal(next.code, 0, next.stderr);
  assert.equal(next.summary.uploaded, 1);
  const row = (await items(db.url)).find((x) => x.remote_path === '2/growing.log')!;
  assert.equal(Number(row.size_bytes), (await readFile(growing)).length);
});

test('include and exclude globs, hidden files and symbolic links select what is imported', async () => {
  const db = await freshDatabase('filters');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  await mkdir(path.join(src, '3', 'docs'), { recursive: true });
  await mkdir(path.join(src, '3', 'tmp'), { recursive: true });
  await mkdir(path.join(src, '3', '.cache'), { recursive: true });
  for (const f of ['docs/a.pdf', 'docs/b.txt', 'tmp/c.pdf', '.cache/d.pdf', '.hidden.pdf', 'e.pdf']) await writeFile(path.join(src, '3', f), f);
  await symlink(path.join(src, '3', 'e.pdf'), path.join(src, '3', 'link.pdf'));

  const r = await runJson([src, '--include', '**/*.pdf', '--exclude', '3/tmp', '--database-url', db.url, '--local-root', drive]);

  assert.equal(r.code, 0, r.stderr);
  const rows = await items(db.url);
  assert.deepEqual(rows.filter((x) => !x.is_folder).map((x) => x.remote_path).sort(), ['3/docs/a.pdf', '3/e.pdf']);
  const codes = Object.fromEntries(r.summary.failures.map((f: any) => [f.path, f.code]));
  assert.equal(codes['3/.hidden.pdf'], 'hidden');
  assert.equal(codes['3/.cache'], 'hidden');
  assert.equal(codes['3/link.pdf'], 'symlink');

  const withHidden = await runJson([src, '--hidden', '--follow-symlinks', '--include', '**/*.pdf', '--exclude', '3/tmp', '--database-url', db.url, '--local-root', drive]);
  assert.equal(withHidden.code, 0, withHidden.stderr);
  assert.equal(withHidden.summary.uploaded, 3, '.hidden.pdf, .cache/d.pdf and the followed link');
});

test('FIFOs, sockets and devices are skipped with a reason and never opened', async () => {
  const db = await freshDatabase('special');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  await mkdir(path.join(src, '4'));
  await writeFile(path.join(src, '4', 'ok.txt'), 'ok');
  execFileSync('mkfifo', [path.join(src, '4', 'pipe')]);
  const net = await import('node:net');
  const server = net.createServer().listen(path.join(src, '4', 'sock'));
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    execFileSync('mknod', [path.join(src, '4', 'null-device'), 'c', '1', '3']);
  } catch {
    // Not permitted here (no CAP_MKNOD): the FIFO and socket still cover special files.
  }
  try {
    const r = await runJson([src, '--database-url', db.url, '--local-root', drive]);

    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.summary.uploaded, 1);
    const codes = Object.fromEntries(r.summary.failures.map((f: any) => [f.path, f.code]));
    assert.equal(codes['4/pipe'], 'fifo');
    assert.equal(codes['4/sock'], 'socket');
    const recorded = await withClient(db.url, (c) => c.query('SELECT source_path, error_code FROM corporate.vmb_import_failures ORDER BY source_path'));
    assert.ok(recorded.rows.some((x) => x.source_path === '4/pipe' && x.error_code === 'fifo'));
  } finally {
    server.close();
  }
});

test('--after-upload delete removes a file only after its row is committed', async () => {
  const db = await freshDatabase('after_delete');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const files = await makeTree(src, { corps: [5], folders: ['', 'x'], filesPerFolder: 5 });
  const contents = await Promise.all(files.map((f) => readFile(path.join(src, f))));

  const r = await runJson([src, '--after-upload', 'delete', '--database-url', db.url, '--local-root', drive]);

  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((await readdir(path.join(src, '5'), { recursive: true })).filter((n) => n.endsWith('.bin')), []);
  const rows = await items(db.url);
  for (const [i, f] of files.entries()) {
    assert.ok(rows.some((x) => x.remote_path === f), `row for deleted ${f}`);
    assert.deepEqual(await readFile(path.join(drive, f)), contents[i]);
  }
});

test('--after-upload move:DIR moves each file below DIR with its relative path, and --after-upload keep leaves it', async () => {
  const db = await freshDatabase('after_move');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const done = await tempDir('done');
  const files = await makeTree(src, { corps: [6], folders: ['', 'y'], filesPerFolder: 3 });

  const kept = await runJson([src, '--after-upload', 'keep', '--database-url', db.url, '--local-root', drive]);
  assert.equal(kept.code, 0, kept.stderr);
  for (const f of files) await readFile(path.join(src, f));

  const moved = await runJson([src, '--after-upload', `move:${done}`, '--database-url', db.url, '--local-root', drive]);
  assert.equal(moved.code, 0, moved.stderr);
  assert.equal(moved.summary.unchanged, files.length, 'already imported files are moved too');
  for (const f of files) assert.ok((await readFile(path.join(done, f))).length >= 0, `${f} moved`);
  assert.deepEqual((await readdir(src, { recursive: true })).filter((n) => n.endsWith('.bin')), []);
});

test('a move that fails is reported and the file stays where it was, imported', async () => {
  const db = await freshDatabase('after_fail');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const blocker = path.join(await tempDir('blocker'), 'a-file');
  await writeFile(blocker, 'not a directory');
  const files = await makeTree(src, { corps: [7], folders: [''], filesPerFolder: 2 });

  const r = await runJson([src, '--after-upload', `move:${blocker}`, '--database-url', db.url, '--local-root', drive]);

  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.summary.uploaded, 2);
  assert.equal(r.summary.afterUploadFailed, 2);
  assert.ok(r.summary.failures.every((f: any) => f.stage === 'after-upload' && f.code === 'after-upload-move-failed'));
  for (const f of files) await readFile(path.join(src, f));
  await assertLedgerMatchesFiles(await items(db.url), src, files);
});

test('--max-runtime stops dispatching and the uploads in flight, leaves the rest for the next run and records the run as partial', async () => {
  const db = await freshDatabase('max_runtime');
  const src = await tempDir('src');
  const root = '/cron-max-runtime';
  const files = await makeTree(src, { corps: [8], folders: [''], filesPerFolder: 200, size: () => 10 });
  emulator.faults.latencyMs = 100;

  // 4 uploads at a time at 100 ms each need 5 s for all 200 files. 2 s leaves room for start-up
  // (the drive check, two threads, three folders at 100 ms a request) on a loaded machine: with 1 s
  // a full `npm test` on 2 cores once reached the limit before the first upload finished.
  const r = await runJson([src, '--threads', '2', '--tasks-per-thread', '2', '--max-runtime', '2s', ...onedrive(db.url, root)], env());

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.status, 'partial');
  assert.ok(r.summary.uploaded > 0 && r.summary.uploaded < files.length, `uploaded ${r.summary.uploaded}`);
  assert.equal(r.summary.failed, 0, 'a file stopped by the bound is not a failure');
  assert.equal(r.summary.uploaded + r.summary.leftForNextRun, r.summary.seen, 'every file seen was uploaded or left for the next run');
  const rows = (await items(db.url)).filter((x) => !x.is_folder);
  assert.equal(rows.length, r.summary.uploaded, 'a row for every finished upload and none for the rest');
  for (const row of rows) assert.ok(emulator.itemByPath(`${root}/${row.remote_path}`), `${row.remote_path} is on the drive`);
  assert.equal((await runRow(db.url, r.summary.runId)).status, 'partial');
});

test('SIGTERM mid-run lets files in flight finish, records no half-written row, closes every connection and exits 143', async () => {
  const db = await freshDatabase('sigterm');
  await withClient(process.env.TEST_DATABASE_URL!, (c) => c.query(`ALTER DATABASE ${db.name} SET log_min_messages = 'debug1'`));
  const src = await tempDir('src');
  const root = '/cron-sigterm';
  const files = await makeTree(src, { corps: [9], folders: ['', 'z'], filesPerFolder: 150, size: () => 10 });
  emulator.faults.latencyMs = 150;
  emulator.resetRequests();
  const run = startCli([src, '--threads', '2', '--tasks-per-thread', '4', ...onedrive(db.url, root), '--json', '--no-progress'], env());
  const deadline = Date.now() + 30_000;
  while (emulator.requests().filter((q) => q.method === 'PUT' && q.path.includes('cron-sigterm') === false && q.status === 201).length < 20 && Date.now() < deadline) await sleep(20);
  run.child.kill('SIGTERM');
  const r = await run.done;

  assert.equal(r.code, 143, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.status, 'interrupted');
  assert.ok(summary.uploaded > 0 && summary.uploaded < files.length, `uploaded ${summary.uploaded}`);
  const rows = await items(db.url);
  assert.equal(rows.filter((x) => !x.is_folder).length, summary.uploaded);
  for (const row of rows.filter((x) => !x.is_folder)) {
    const item = emulator.itemByPath(`${root}/${row.remote_path}`);
    assert.ok(item, `${row.remote_path} is on the drive`);
    assert.equal(item.quickXorHash, row.content_hash);
  }
  assertChildCountsExact(rows);
  assert.equal((await runRow(db.url, summary.runId)).status, 'interrupted');
  const left = await withClient(process.env.TEST_DATABASE_URL!, (c) => c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE $2', [db.name, 'vmb-import/%']));
  assert.equal(left.rows[0].n, 0);
  if (process.env.TEST_PG_LOG) {
    const log = await readFile(process.env.TEST_PG_LOG, 'utf8');
    assert.deepEqual(log.split('\n').filter((l) => l.includes(`db=${db.name} `) && /unexpected EOF|connection reset/i.test(l)), []);
  }
});

test('an unreadable file is skipped with its reason and the rest of the run completes', async () => {
  const db = await freshDatabase('unreadable');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  await makeTree(src, { corps: [10], folders: [''], filesPerFolder: 3 });
  const secret = path.join(src, '10', 'secret.txt');
  await writeFile(secret, 'no');
  // Root reads any file, so when the tests run as root the importer runs as 'nobody'.
  const asNobody = process.getuid?.() === 0;
  if (asNobody) for (const d of [src, drive]) execFileSync('chmod', ['-R', 'a+rwX', d]);
  await chmod(secret, 0);

  const r = await runJson([src, '--database-url', db.url, '--local-root', drive], {}, asNobody ? { user: 'nobody' } : {});

  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.summary.uploaded, 3);
  assert.deepEqual(r.summary.failures.map((f: any) => [f.path, f.code]), [['10/secret.txt', 'unreadable']]);
});

async function waitForRunning(url: string, deadlineMs = 30_000): Promise<number> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    const r = await withClient(url, async (c) => {
      const exists = (await c.query("SELECT to_regclass('corporate.vmb_import_runs') AS t")).rows[0].t;
      return exists ? (await c.query("SELECT id FROM corporate.vmb_import_runs WHERE status = 'running' AND backend_pid IS NOT NULL")).rows : [];
    });
    if (r.length > 0) return Number(r[0].id);
    await sleep(50);
  }
  throw new Error('no run started');
}

test('a second run on the same root and target exits 75 naming the holder, and --wait-lock waits for it instead', async () => {
  const db = await freshDatabase('lock');
  const src = await tempDir('src');
  const root = '/cron-lock';
  await makeTree(src, { corps: [11], folders: [''], filesPerFolder: 40, size: () => 10 });
  emulator.faults.latencyMs = 100;
  const first = startCli([src, '--threads', '1', '--tasks-per-thread', '2', ...onedrive(db.url, root), '--json', '--no-progress'], env());
  const holder = await waitForRunning(db.url);

  const second = await runCli([src, ...onedrive(db.url, root), '--json', '--no-progress'], env());
  assert.equal(second.code, 75, second.stderr);
  assert.equal(second.stdout, '');
  const line = second.stderr.trim().split('\n').at(-1)!;
  assert.match(line, new RegExp(`run ${holder} on \\S+ \\(pid \\d+\\) since \\d{4}-\\d\\d-\\d\\dT`));

  const waiting = runJson([src, '--wait-lock', '2m', ...onedrive(db.url, root)], env());
  const firstDone = await first.done;
  assert.equal(firstDone.code, 0, firstDone.stderr);
  const third = await waiting;
  assert.equal(third.code, 0, third.stderr);
  assert.equal(third.summary.unchanged, 40, 'the waiting run started after the first had finished');
});

test('a run killed with SIGKILL is marked interrupted by the next run, which completes without duplicates', async () => {
  const db = await freshDatabase('kill9');
  const src = await tempDir('src');
  const root = '/cron-kill9';
  const files = await makeTree(src, { corps: [12], folders: ['', 'k'], filesPerFolder: 60, size: () => 10 });
  emulator.faults.latencyMs = 50;
  const doomed = startCli([src, '--threads', '2', '--tasks-per-thread', '2', ...onedrive(db.url, root), '--json', '--no-progress'], env());
  const dead = await waitForRunning(db.url);
  while ((await items(db.url).catch(() => [])).filter((x) => !x.is_folder).length < 10) await sleep(20);
  doomed.child.kill('SIGKILL');
  await doomed.done;
  emulator.faults.latencyMs = 0;

  const r = await runJson([src, ...onedrive(db.url, root)], env());

  assert.equal(r.code, 0, r.stderr);
  assert.equal((await runRow(db.url, dead)).status, 'interrupted');
  const rows = await items(db.url);
  assert.equal(rows.filter((x) => !x.is_folder).length, files.length);
  assert.equal(new Set(rows.map((x) => x.remote_path)).size, rows.length);
  for (const row of rows) assert.equal(emulator.itemByPath(`${root}/${row.remote_path}`)?.id, row.onedrive_item_id);
  assertChildCountsExact(rows);
});
