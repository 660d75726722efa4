import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import pg from 'pg';
import { runLockKey } from '../../src/ledger/run-lock.js';
import { writeMetricsFile } from '../../src/metrics/metrics-file.js';
import { SERIES } from '../../src/metrics/series.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli, runJson, startCli } from '../support/cli.js';
import { startGraphEmulator } from '../support/graph-emulator/server.js';
import { freshDatabase } from '../support/database.js';
import { makeTree, tempDir } from '../support/trees.js';

/** `--metrics-file`: what node_exporter's textfile collector reads after every run. */

/** `promtool check metrics` (Debian's prometheus package, which .ci/run installs) on the file's text. */
function promtool(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => reject(new Error(`promtool could not be run (${err.message}): install Debian's prometheus package, as .ci/run does`)));
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

/** The samples of a text-format file, `name{labels}` → value; a reader of its own, not the product's. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

async function metrics(file: string): Promise<Map<string, number>> {
  return samples(await readFile(file, 'utf8'));
}

function value(m: Map<string, number>, sample: string): number {
  const v = m.get(sample);
  assert.ok(v !== undefined, `${sample} is in the file`);
  return v;
}

/** A database, a source tree with one corp folder, a drive and a directory for the metrics file. */
async function setup(label: string) {
  const db = await freshDatabase(`metrics_${label}`);
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const dir = await tempDir('textfile');
  await makeTree(src, { corps: [4], folders: ['', 'a'], filesPerFolder: 3 });
  const file = path.join(dir, 'vmb-import.prom');
  const args = [src, '--threads', '2', '--database-url', db.url, '--local-root', drive];
  return { db, src, drive, dir, file, args, withMetrics: [...args, '--metrics-file', file] };
}

describe('an import with files of several outcomes', () => {
  let file: string;
  let text: string;
  let summary: Record<string, any>;
  before(async () => {
    const s = await setup('import');
    assert.equal((await runJson(s.args)).code, 0, 'the first import, without metrics');
    await writeFile(path.join(s.src, '4', 'new-1.txt'), 'new');
    await writeFile(path.join(s.src, '4', 'a', 'new-2.txt'), 'newer');
    await writeFile(path.join(s.src, '4', '.hidden'), 'skipped');
    const r = await runJson(s.withMetrics);
    assert.equal(r.code, 0, r.stderr);
    file = s.file;
    summary = r.summary;
    text = await readFile(file, 'utf8');
  });

  test('the metrics file of an import passes promtool check metrics', async () => {
    const r = await promtool(text);
    assert.equal(r.code, 0, r.output);
  });

  test('every series of the import is in the file, those at zero included', () => {
    const m = samples(text);
    const expected = SERIES.flatMap((s) => (s.label ? s.label.values.map((v) => `${s.name}{command="import",${s.label!.name}="${v}"}`) : [`${s.name}{command="import"}`]));
    assert.deepEqual([...m.keys()].sort(), expected.sort());
    assert.equal(value(m, 'vmb_import_throttled_requests_total{command="import"}'), 0);
    assert.equal(value(m, 'vmb_import_drift_items{command="import",class="moved"}'), 0);
    assert.equal(value(m, 'vmb_import_last_run_files{command="import",outcome="deferred"}'), 0);
  });

  test("the metrics of an import equal its --json summary", () => {
    const m = samples(text);
    assert.deepEqual([summary.uploaded, summary.unchanged, summary.skipped], [2, 6, 1], 'the run had files of several outcomes');
    const outcomes = { uploaded: summary.uploaded, unchanged: summary.unchanged, skipped: summary.skipped, failed: summary.failed, deferred: summary.deferred, left_for_next_run: summary.leftForNextRun };
    for (const [outcome, n] of Object.entries(outcomes)) assert.equal(value(m, `vmb_import_last_run_files{command="import",outcome="${outcome}"}`), n, outcome);
    assert.equal(value(m, 'vmb_import_last_run_uploaded_bytes{command="import"}'), summary.bytesUploaded);
    assert.equal(value(m, 'vmb_import_last_run_duration_seconds{command="import"}'), summary.durationMs / 1000);
    assert.equal(value(m, 'vmb_import_last_run_status{command="import",status="succeeded"}'), 1);
    assert.equal(value(m, 'vmb_import_last_run_status{command="import",status="failed"}'), 0);
    assert.equal(value(m, 'vmb_import_last_success_timestamp_seconds{command="import"}'), value(m, 'vmb_import_last_run_timestamp_seconds{command="import"}'));
  });
});

test('a failed run keeps the last success time of the run before it and records its own end with a failed status', async () => {
  const s = await setup('failed');
  assert.equal((await runJson(s.withMetrics)).code, 0);
  const succeeded = await metrics(s.file);
  const notADirectory = path.join(s.dir, 'not-a-directory');
  await writeFile(notADirectory, '');

  const r = await runJson([...s.withMetrics, '--after-upload', `move:${notADirectory}`]);

  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.summary.status, 'failed');
  const m = await metrics(s.file);
  const lastSuccess = 'vmb_import_last_success_timestamp_seconds{command="import"}';
  assert.equal(value(m, lastSuccess), value(succeeded, lastSuccess));
  assert.ok(value(m, 'vmb_import_last_run_timestamp_seconds{command="import"}') > value(m, lastSuccess), 'the failed run recorded its own end');
  assert.equal(value(m, 'vmb_import_last_run_status{command="import",status="failed"}'), 1);
  assert.equal(value(m, 'vmb_import_last_run_status{command="import",status="succeeded"}'), 0);
});

test('a run stopped by a configuration error still records its end with a failed status, and no success', async () => {
  const s = await setup('config');

  const r = await runCli([...s.withMetrics, '--threads', '0']);

  assert.equal(r.code, 2, r.stderr);
  const m = await metrics(s.file);
  assert.ok(value(m, 'vmb_import_last_run_timestamp_seconds{command="import"}') > 0);
  assert.equal(value(m, 'vmb_import_last_run_status{command="import",status="failed"}'), 1);
  assert.equal(value(m, 'vmb_import_last_success_timestamp_seconds{command="import"}'), 0);
});

test('the file is replaced, not rewritten: a reader that opened it before a run still reads the whole previous file, and no temporary file is left', async () => {
  const s = await setup('atomic');
  assert.equal((await runJson(s.withMetrics)).code, 0);
  const previous = await readFile(s.file, 'utf8');
  const inode = (await stat(s.file)).ino;
  const reader = await open(s.file, 'r');
  try {
    assert.equal((await runJson(s.withMetrics)).code, 0);

    assert.equal(await reader.readFile('utf8'), previous, 'the open file still holds the previous metrics, whole');
  } finally {
    await reader.close();
  }
  assert.notEqual((await stat(s.file)).ino, inode, 'another file took its name');
  assert.notEqual(await readFile(s.file, 'utf8'), previous);
  assert.deepEqual(await readdir(s.dir), ['vmb-import.prom']);
});

test("an import keeps the series another command wrote, check's drift and last success among them", async () => {
  const s = await setup('shared');
  await writeMetricsFile(s.file, { command: 'check', status: 'succeeded', success: true, endedAt: 1_700_000_000_000, durationMs: 2500, drift: { moved: 3, 'missing-remote': 1 } });

  assert.equal((await runJson(s.withMetrics)).code, 0);

  const m = await metrics(s.file);
  assert.equal(value(m, 'vmb_import_drift_items{command="check",class="moved"}'), 3);
  assert.equal(value(m, 'vmb_import_drift_items{command="check",class="missing-remote"}'), 1);
  assert.equal(value(m, 'vmb_import_last_success_timestamp_seconds{command="check"}'), 1_700_000_000);
  assert.equal(value(m, 'vmb_import_last_run_duration_seconds{command="check"}'), 2.5);
  assert.equal(value(m, 'vmb_import_last_run_status{command="import",status="succeeded"}'), 1);
  assert.equal((await promtool(await readFile(s.file, 'utf8'))).code, 0);
});

test('a metrics file that cannot be written costs one warning line and leaves the exit code 0', async () => {
  const s = await setup('unwritable');
  const notADirectory = path.join(s.dir, 'plain-file');
  await writeFile(notADirectory, '');

  const r = await runJson([...s.args, '--metrics-file', path.join(notADirectory, 'vmb-import.prom')]);

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.status, 'succeeded');
  const warnings = r.stderr.split('\n').filter((l) => l.includes('could not write the metrics file'));
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(warnings[0], /ENOTDIR/);
});

test("the throttling counters add each run's throttled requests and held time to the file's", async () => {
  const dir = await tempDir('textfile');
  const file = path.join(dir, 'vmb-import.prom');
  const run = { command: 'import', status: 'succeeded', success: true, endedAt: Date.now(), durationMs: 1000 } as const;

  await writeMetricsFile(file, { ...run, throttling: { throttledRequests: 5, heldMs: 1500, resourceUnitsPerMinute: 0, learnedRatePerMinute: 0 } });
  await writeMetricsFile(file, run);
  await writeMetricsFile(file, { ...run, throttling: { throttledRequests: 2, heldMs: 250, resourceUnitsPerMinute: 0, learnedRatePerMinute: 0 } });

  const m = await metrics(file);
  assert.equal(value(m, 'vmb_import_throttled_requests_total{command="import"}'), 7);
  assert.equal(value(m, 'vmb_import_throttle_held_seconds_total{command="import"}'), 1.75);
});

test('a run that finds the lock held leaves the metrics file to the run holding it', async () => {
  const s = await setup('locked');
  assert.equal((await runJson(s.withMetrics)).code, 0);
  const previous = await readFile(s.file, 'utf8');
  const holder = new pg.Client({ connectionString: s.db.url });
  // The test fails on its own assertions; a dropped connection here would only release the lock early.
  holder.on('error', () => undefined);
  await holder.connect();
  try {
    await holder.query('SELECT pg_advisory_lock($1::bigint)', [runLockKey(s.src, `local:${s.drive}`, '/')]);

    const r = await runCli(s.withMetrics);

    assert.equal(r.code, 75, r.stderr);
  } finally {
    await holder.end();
  }
  assert.equal(await readFile(s.file, 'utf8'), previous);
});

test('a run interrupted by SIGTERM records its interrupted status and what it did, and no success', async () => {
  const emulator = await startGraphEmulator({ storeContent: true });
  try {
    const s = await setup('sigterm');
    await makeTree(s.src, { corps: [8], folders: [''], filesPerFolder: 80, size: () => 10 });
    emulator.faults.latencyMs = 150;
    const onedrive = ['--target', 'onedrive', '--graph-url', emulator.url, '--drive-id', emulator.driveId, '--remote-root', '/metrics-sigterm', '--database-url', s.db.url];
    const run = startCli([s.src, '--threads', '1', '--tasks-per-thread', '2', ...onedrive, '--metrics-file', s.file, '--json', '--no-progress'], { VMB_GRAPH_TOKEN: emulator.token });
    const deadline = Date.now() + 30_000;
    while (emulator.requests().filter((q) => q.method === 'PUT' && q.status === 201).length < 5 && Date.now() < deadline) await sleep(20);
    run.child.kill('SIGTERM');
    const r = await run.done;

    assert.equal(r.code, 143, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.status, 'interrupted');
    const m = await metrics(s.file);
    assert.equal(value(m, 'vmb_import_last_run_status{command="import",status="interrupted"}'), 1);
    assert.equal(value(m, 'vmb_import_last_run_files{command="import",outcome="uploaded"}'), summary.uploaded);
    assert.equal(value(m, 'vmb_import_last_run_files{command="import",outcome="left_for_next_run"}'), summary.leftForNextRun);
    assert.equal(value(m, 'vmb_import_last_success_timestamp_seconds{command="import"}'), 0);
  } finally {
    await emulator.close();
  }
});

test('an import and a check ending at the same moment both keep their series in the file', async () => {
  const dir = await tempDir('textfile');
  for (let round = 0; round < 5; round++) {
    const file = path.join(dir, `shared-${round}.prom`);
    const end = { status: 'succeeded', success: true, endedAt: Date.now(), durationMs: 1000 } as const;

    await Promise.all([writeMetricsFile(file, { ...end, command: 'import', files: { uploaded: 4 } }), writeMetricsFile(file, { ...end, command: 'check', drift: { renamed: 2 } })]);

    const m = await metrics(file);
    assert.equal(value(m, 'vmb_import_last_run_files{command="import",outcome="uploaded"}'), 4, `round ${round}`);
    assert.equal(value(m, 'vmb_import_drift_items{command="check",class="renamed"}'), 2, `round ${round}`);
  }
  assert.equal((await readdir(dir)).length, 5, 'no lock or temporary file is left');
});

test('a dry run leaves the metrics file as it was: it imported nothing, so it neither ran nor succeeded for monitoring', async () => {
  const s = await setup('dry');
  assert.equal((await runJson(s.withMetrics)).code, 0);
  const before = await readFile(s.file, 'utf8');

  const r = await runJson([...s.withMetrics, '--dry-run']);

  assert.equal(r.code, 0, r.stderr);
  assert.equal(await readFile(s.file, 'utf8'), before);
});
