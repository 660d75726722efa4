import assert from 'node:assert/strict';
import { chmod, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { startEmbeddedDatabase } from '../../src/ledger/embedded.js';
import { isRunning } from '../../src/ledger/embedded-leases.js';
import { runCli, startCli, type CliResult } from '../support/cli.js';
import { assertChildCountsExact, items } from '../support/ledger.js';
import { makeTree, tempDir } from '../support/trees.js';

// The runs below get no --database-url and, through startCli, no DATABASE_URL or PG* variables:
// each one uses the embedded PostgreSQL of its --data-dir.

async function sharedDataDir(): Promise<string> {
  const data = await tempDir('data');
  // As root the server runs as the 'postgres' user, which must be able to reach the data dir.
  await chmod(data, 0o755);
  return data;
}

const importArgs = (src: string, data: string) => [src, '--data-dir', data, '--threads', '2', '--json', '--no-progress'];

/** The postmaster's pid from its pid file; null once the server has shut down (it removes the file last). */
async function postmasterPid(data: string): Promise<number | null> {
  try {
    return Number((await readFile(path.join(data, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0]);
  } catch {
    return null;
  }
}

async function assertServerStopped(data: string, pid: number): Promise<void> {
  assert.equal(await postmasterPid(data), null, 'postmaster.pid is gone');
  assert.equal(await isRunning(pid), false, `postmaster ${pid} has exited`);
}

interface RunningCli {
  child: ReturnType<typeof startCli>['child'];
  done: Promise<CliResult>;
}

/** Start the CLI and return once its log has said `pattern`; the process goes on running. */
async function startUntil(args: string[], pattern: RegExp): Promise<RunningCli> {
  const cli = startCli(args);
  let said = '';
  await new Promise<void>((resolve, reject) => {
    cli.child.stderr!.on('data', (d) => {
      said += d;
      if (pattern.test(said)) resolve();
    });
    void cli.done.then((r) => reject(new Error(`exited ${r.code} before saying ${pattern}; stderr:\n${r.stderr}`)));
  });
  return cli;
}

function assertSucceeded(r: CliResult): void {
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).status, 'succeeded', r.stderr);
}

/** Every file of every tree has a row, and every folder's child_count is exact. */
async function assertLedgerHolds(data: string, files: string[]): Promise<void> {
  const ledger = await startEmbeddedDatabase(data, { info: () => undefined, warn: () => undefined });
  try {
    const rows = await items(ledger.url);
    assert.deepEqual(rows.filter((r) => !r.is_folder).map((r) => r.remote_path), [...files].sort());
    assertChildCountsExact(rows);
  } finally {
    await ledger.leave();
  }
}

test('two imports sharing a data dir both record every file when the one that started the embedded PostgreSQL ends first, and the last to end stops it', async () => {
  const data = await sharedDataDir();
  const [srcA, srcB] = [await tempDir('src-a'), await tempDir('src-b')];
  const filesA = await makeTree(srcA, { corps: [1], folders: ['', 'x'], filesPerFolder: 3 });
  const filesB = await makeTree(srcB, { corps: [2], folders: ['', 'y', 'y/z'], filesPerFolder: 20 });

  // SIGSTOP and SIGCONT put the runs in the order under test, whatever the machine's speed: A starts
  // the server, B joins it and starts its run, A ends while B still has every file to write.
  const a = await startUntil(importArgs(srcA, data), /started the embedded PostgreSQL/);
  a.child.kill('SIGSTOP');
  const server = (await postmasterPid(data))!;
  const b = await startUntil(importArgs(srcB, data), /joined the embedded PostgreSQL[^]*import started/);
  b.child.kill('SIGSTOP');
  a.child.kill('SIGCONT');
  const endA = await a.done;
  b.child.kill('SIGCONT');
  const endB = await b.done;

  assertSucceeded(endA);
  assertSucceeded(endB);
  assert.equal(JSON.parse(endB.stdout).uploaded, filesB.length);
  await assertServerStopped(data, server);
  // The server's own log goes on without the process that started it, to its shutdown by B.
  assert.match(await readFile(path.join(data, 'postgres.log'), 'utf8'), /database system is shut down\s*$/);
  await assertLedgerHolds(data, [...filesA, ...filesB]);
});

test('vmb-import runs joining the embedded PostgreSQL an import is using leaves it running for the import', async () => {
  const data = await sharedDataDir();
  const src = await tempDir('src');
  const files = await makeTree(src, { corps: [3], folders: ['', 'x'], filesPerFolder: 5 });

  const run = await startUntil(importArgs(src, data), /started the embedded PostgreSQL/);
  run.child.kill('SIGSTOP');
  const server = (await postmasterPid(data))!;
  const runs = await runCli(['runs', '--data-dir', data, '--json']);
  assert.equal(runs.code, 0, runs.stderr);
  assert.equal(await postmasterPid(data), server, 'the same server still runs');
  assert.ok(await isRunning(server));
  run.child.kill('SIGCONT');

  assertSucceeded(await run.done);
  await assertServerStopped(data, server);
  await assertLedgerHolds(data, files);
});

test('an embedded PostgreSQL whose only user was killed with -9 is stopped when the next user leaves', async () => {
  const data = await sharedDataDir();
  const src = await tempDir('src');
  await makeTree(src, { corps: [4], folders: [''], filesPerFolder: 5 });

  const killed = await startUntil(importArgs(src, data), /started the embedded PostgreSQL/);
  const server = (await postmasterPid(data))!;
  killed.child.kill('SIGKILL');
  await killed.done;
  assert.ok(await isRunning(server), 'the server outlives the process that started it');

  const runs = await runCli(['runs', '--data-dir', data, '--json']);
  assert.equal(runs.code, 0, runs.stderr);
  await assertServerStopped(data, server);
});
