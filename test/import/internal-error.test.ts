import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { createRunFlagsBuffer } from '../../src/limits/run-flags.js';
import type { TaskResult, WorkerConfig } from '../../src/types.js';
import { runCli, runJson } from '../support/cli.js';
import { freshDatabase, withClient } from '../support/database.js';
import { makeTree, tempDir } from '../support/trees.js';

const TASK_MODULE = fileURLToPath(new URL('../../tasks/import-file.js', import.meta.url));

test('an exception no code expects ends the command with exit 70, one line on stderr and the stack in the log', async () => {
  const db = await freshDatabase('internal');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const logs = await tempDir('logs');
  await makeTree(src, { corps: [3], folders: [''], filesPerFolder: 2 });
  const args = [src, '--database-url', db.url, '--local-root', drive, '--threads', '1', '--no-progress'];
  assert.equal((await runJson(args)).code, 0);
  // The schema is at its version, but an operator renamed the ledger's table: nothing in the
  // importer expects that, so it is a bug's path, not a configuration error.
  await withClient(db.url, (c) => c.query('ALTER TABLE corporate.vmb_items RENAME TO vmb_items_renamed'));
  const logFile = path.join(logs, 'run.log');

  const r = await runCli([...args, '--log-file', logFile]);

  assert.equal(r.code, 70, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^vmb-import: unexpected error \(a bug, exit 70\): .*vmb_items.*; the stack is in the log$/);
  const logged = (await readFile(logFile, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const report = logged.find((l) => l.code === 'internal-error');
  assert.ok(report, 'the unexpected error is logged');
  assert.match(report.stack, /\n\s+at /, 'with its stack');
});

test('a TypeError inside a task comes back as a fatal internal-error with its stack, not a retryable failure of the file', async (t) => {
  const db = await freshDatabase('internal_task');
  const config: WorkerConfig = {
    runId: 0,
    ledger: { connectionString: db.url, display: 'test' },
    drive: { kind: 'local', root: await tempDir('drive') },
    applicationName: 'vmb-test/worker',
    tasksPerThread: 1,
    batchSize: 1,
    followSymlinks: false,
    runFlags: createRunFlagsBuffer(),
    channel: 'vmb-test:internal-error',
  };
  const pool = new Piscina({ filename: TASK_MODULE, minThreads: 1, maxThreads: 1, workerData: config, atomics: 'disabled' });
  // An uncaught error in the thread would surface here; the test fails on it rather than crashing.
  pool.on('error', (err) => assert.fail(err));
  t.after(() => pool.destroy());
  // Plain data that breaks the task's own assumptions: a file task without its folder chain.
  const malformed = { kind: 'file', absPath: '/nowhere', sourcePath: '3/x', corpIndex: 3, name: 'x', size: 1, mtimeMs: 0 };

  const result = (await pool.run(malformed)) as TaskResult;

  assert.equal(result.status, 'failed');
  assert.ok(result.status === 'failed');
  assert.equal(result.kind, 'fatal');
  assert.equal(result.code, 'internal-error');
  assert.match(result.message, /TypeError|Cannot read|undefined/);
  assert.match(result.stack ?? '', /\n\s+at /);
});
