import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { historyHandlers, isHistoryCommand, registerHistoryCommands, type HistoryArgs } from '../../src/cli/commands/history.js';
import { VmbError } from '../../src/errors/vmb-error.js';
import { runJson } from '../support/cli.js';
import { freshDatabase } from '../support/database.js';
import { dumpTables } from '../support/ledger.js';
import { makeTree, tempDir } from '../support/trees.js';

/**
 * `runs` and `failures` until main.ts wires them in: the same yargs command modules (strict, as in
 * main.ts), then the handler main.ts will call, in this process, with stdout captured.
 */
async function history(argv: string[]): Promise<{ code: number; stdout: string }> {
  let usage: string | null = null;
  const parser = registerHistoryCommands(yargs(argv))
    .strict()
    .fail((msg, err) => {
      usage = msg ?? err?.message ?? 'invalid';
    });
  const args = (await parser.parseAsync()) as Record<string, unknown>;
  if (usage) throw new Error(`usage error: ${usage}`);
  const command = String((args._ as unknown[])[0]);
  assert.ok(isHistoryCommand(command), command);
  let stdout = '';
  const code = await historyHandlers[command](args as HistoryArgs, { out: (t) => void (stdout += t), env: {} });
  return { code, stdout };
}

// At the top level: freshDatabase and tempDir register their clean-up with after(), which must
// belong to the file.
const { url } = await freshDatabase('history');
const emptyDb = await freshDatabase('history_empty');
const src = await tempDir('src');
const drive = await tempDir('drive');
let first: Record<string, any>;
let second: Record<string, any>;

before(async () => {
  await makeTree(src, { corps: [5], folders: ['', 'a'], filesPerFolder: 3, size: () => 100 });
  first = (await runJson([src, '--database-url', url, '--local-root', drive, '--threads', '2'])).summary;
  await mkdir(path.join(src, '5', 'b'));
  await writeFile(path.join(src, '5', 'b', 'new.txt'), 'x'.repeat(2048));
  await writeFile(path.join(src, 'loose.txt'), 'outside any corp folder');
  second = (await runJson([src, '--database-url', url, '--local-root', drive, '--threads', '2'])).summary;
  assert.equal(first.status, 'succeeded');
  assert.equal(second.uploaded, 1);
  assert.equal(second.skipped, 1);
});

test('runs prints a table of the runs, newest first, with their counts', async () => {
  const r = await history(['runs', '--database-url', url]);

  assert.equal(r.code, 0);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 3, r.stdout);
  assert.deepEqual(lines[0].split(/\s+/), ['id', 'kind', 'started', 'duration', 'status', 'uploaded', 'unchanged', 'deferred', 'failed', 'skipped', 'bytes', 'sessions', 'throttled', 'host']);
  const cells = (line: string) => line.trim().split(/\s{2,}/);
  const [newest, oldest] = [cells(lines[1]), cells(lines[2])];
  // id, kind, started, duration, status, uploaded, unchanged, deferred, failed, skipped, bytes, sessions, throttled, host
  assert.equal(newest[0], String(second.runId));
  assert.equal(newest[1], 'import');
  assert.match(newest[2], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  assert.match(newest[3], /^\d+(ms|\.\ds)$/);
  assert.deepEqual(newest.slice(4), ['succeeded', '1', '6', '0', '0', '1', '2.0 KiB', '0', '0ms', os.hostname()]);
  assert.equal(oldest[0], String(first.runId));
  assert.deepEqual(oldest.slice(4), ['succeeded', '6', '0', '0', '0', '0', '600 B', '0', '0ms', os.hostname()]);
  const end = (line: string, cell: string) => line.lastIndexOf(cell) + cell.length;
  assert.equal(end(lines[2], '600 B'), end(lines[0], 'bytes'), 'sizes are right-aligned under their heading');
  assert.equal(end(lines[1], '2.0 KiB'), end(lines[0], 'bytes'));
});

test('runs --json lists the runs newest first with camelCase fields and every count', async () => {
  const r = await history(['runs', '--database-url', url, '--json']);

  assert.equal(r.code, 0);
  const runs = JSON.parse(r.stdout);
  assert.deepEqual(runs.map((x: any) => x.id), [second.runId, first.runId]);
  const newest = runs[0];
  assert.deepEqual(Object.keys(newest), [
    'id', 'kind', 'startedAt', 'finishedAt', 'durationMs', 'status', 'dryRun', 'importRoot', 'driveId', 'remoteRoot', 'host', 'pid', 'version',
    'seen', 'uploaded', 'unchanged', 'skipped', 'failed', 'deferred', 'bytesUploaded', 'foldersCreated', 'retries',
    'resumed', 'bytesNotResent', 'leftForNextRun', 'throttledRequests', 'heldMs', 'failuresRecorded', 'sessionsOpen',
  ]);
  assert.equal(newest.status, 'succeeded');
  assert.equal(newest.kind, 'import');
  assert.equal(newest.host, os.hostname());
  for (const k of ['seen', 'uploaded', 'unchanged', 'skipped', 'failed', 'deferred', 'bytesUploaded', 'foldersCreated', 'retries', 'resumed', 'bytesNotResent', 'leftForNextRun']) {
    assert.equal(newest[k], second[k], k);
  }
  assert.equal(newest.throttledRequests, second.throttling.throttledRequests);
  assert.equal(newest.heldMs, second.throttling.heldMs);
  assert.equal(newest.failuresRecorded, 1);
  assert.equal(newest.sessionsOpen, 0);
  assert.ok(newest.durationMs >= 0);
  assert.equal(Date.parse(newest.finishedAt) - Date.parse(newest.startedAt), newest.durationMs);
});

test('runs --limit 1 shows only the newest run', async () => {
  const r = await history(['runs', '--database-url', url, '--json', '--limit', '1']);

  assert.deepEqual(JSON.parse(r.stdout).map((x: any) => x.id), [second.runId]);
});

test("failures shows the most recent run's failures with path, stage, code and reason", async () => {
  const r = await history(['failures', '--database-url', url]);

  assert.equal(r.code, 0);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0], new RegExp(`^run ${second.runId} \\(succeeded, started .*\\): 1 failure$`));
  assert.deepEqual(lines[1].split(/\s+/), ['path', 'stage', 'code', 'reason']);
  assert.deepEqual(lines[2].split(/\s{2,}/).slice(0, 3), ['loose.txt', 'walk', 'outside-corp-folder']);
  assert.match(lines[2], /file is not inside a corp folder/);
  assert.equal(lines.length, 3);
});

test('failures --json gives the failures of a run as an array', async () => {
  const r = await history(['failures', '--database-url', url, '--json', '--run', String(second.runId)]);

  assert.equal(r.code, 0);
  const failures = JSON.parse(r.stdout);
  assert.equal(failures.length, 1);
  const { recordedAt, ...rest } = failures[0];
  assert.deepEqual(rest, { runId: second.runId, path: 'loose.txt', stage: 'walk', code: 'outside-corp-folder', reason: second.failures[0].reason });
  assert.ok(!Number.isNaN(Date.parse(recordedAt)));
});

test('failures --run of a run without failures says so', async () => {
  const r = await history(['failures', '--database-url', url, '--run', String(first.runId)]);

  assert.equal(r.code, 0);
  assert.match(r.stdout, new RegExp(`^run ${first.runId} \\(succeeded, started .*\\): no failures recorded\\n$`));
});

test('failures --run of a run not in the ledger is a configuration error', async () => {
  await assert.rejects(history(['failures', '--database-url', url, '--run', '99999']), (err: unknown) => {
    assert.ok(err instanceof VmbError && err.kind === 'fatal' && err.code === 'no-such-run');
    assert.match(err.message, /run 99999 is not in the ledger/);
    return true;
  });
});

test('a malformed --limit or --run is a configuration error', async () => {
  await assert.rejects(history(['runs', '--database-url', url, '--limit', 'ten']), /--limit must be a whole number/);
  await assert.rejects(history(['failures', '--database-url', url, '--run', '0']), /--run must be a run id/);
});

test('runs and failures on a database without the schema say no runs recorded yet and create nothing', async () => {
  const empty = emptyDb;

  assert.deepEqual(await history(['runs', '--database-url', empty.url]), { code: 0, stdout: 'no runs recorded yet\n' });
  assert.deepEqual(await history(['runs', '--database-url', empty.url, '--json']), { code: 0, stdout: '[]\n' });
  assert.deepEqual(await history(['failures', '--database-url', empty.url]), { code: 0, stdout: 'no runs recorded yet\n' });
  assert.deepEqual(await history(['failures', '--database-url', empty.url, '--json']), { code: 0, stdout: '[]\n' });
  assert.equal(await dumpTables(empty.url), 'no schema');
});

test('in its own process, runs writes the JSON to stdout, nothing to stderr, and exits 0', async () => {
  // A stand-in for the lead's wiring in main.ts: parse, dispatch, exit code.
  const module = fileURLToPath(new URL('../../src/cli/commands/history.js', import.meta.url));
  const script = `
    import yargs from 'yargs';
    import { historyHandlers, registerHistoryCommands } from ${JSON.stringify(module)};
    const args = await registerHistoryCommands(yargs(process.argv.slice(1))).strict().parseAsync();
    process.exitCode = await historyHandlers[args._[0]](args);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, 'runs', '--database-url', url, '--json'], {
    cwd: path.dirname(module),
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

  assert.equal(code, 0, stderr);
  assert.equal(stderr, '');
  assert.deepEqual(JSON.parse(stdout).map((x: any) => x.id), [second.runId, first.runId]);
});
