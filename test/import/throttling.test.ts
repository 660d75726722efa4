import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { runCli, runJson } from '../support/cli.js';
import { freshDatabase } from '../support/database.js';
import { startGraphEmulator, type GraphEmulator } from '../support/graph-emulator/server.js';
import type { RequestRecord } from '../support/graph-emulator/exchange.js';
import { assertChildCountsExact, items } from '../support/ledger.js';
import { makeTree, tempDir } from '../support/trees.js';

/**
 * The traffic governor against the emulator's app budget (test/support/graph-emulator/budget.ts):
 * real worker threads, real HTTP, a real ledger. Every figure is counted (requests, RU, bytes)
 * against the emulator's own clock; no test asserts how long anything took.
 */

const CHUNK = 327_680;
let emulator: GraphEmulator;
before(async () => {
  emulator = await startGraphEmulator({ storeContent: true });
});
after(() => emulator.close());
beforeEach(() => {
  emulator.faults.reset();
  emulator.budget.reset();
  emulator.resetRequests();
});

const env = () => ({ VMB_GRAPH_TOKEN: emulator.token });
function onedriveArgs(db: string, remoteRoot: string, extra: string[] = []): string[] {
  return ['--target', 'onedrive', '--graph-url', emulator.url, '--drive-id', emulator.driveId, '--remote-root', remoteRoot, '--database-url', db, '--chunk-size', String(CHUNK), '--request-timeout', '10s', ...extra];
}

/** Requests to Graph itself (not to upload URLs), which the budget prices. */
const graphRequests = (log: RequestRecord[]) => log.filter((r) => r.path.startsWith('/v1.0/'));
const priceOf = (r: RequestRecord) => (r.method === 'GET' && !/\/(children|delta)$/.test(r.path) ? 1 : 2);

test('many threads against a small budget import every file, none failed, and the summary counts what was throttled', async () => {
  const db = await freshDatabase('thr_small');
  const src = await tempDir('src');
  const files = await makeTree(src, { corps: [3], folders: ['', 'a', 'b'], filesPerFolder: 40, size: () => 200 });
  // 20 uploads a second at most: far below what 8 threads send unpaced.
  emulator.budget.configure({ units: 80, windowMs: 2_000, rateLimitHeaders: false });

  const r = await runJson([...[src, '--threads', '8', '--retries', '1'], ...onedriveArgs(db.url, '/thr-small')], env());

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.failed, 0);
  assert.equal(r.summary.uploaded, files.length);
  const stats = emulator.budget.stats();
  assert.ok(stats.throttled > 0, 'the budget was spent at least once');
  assert.equal(r.summary.throttling.throttledRequests, stats.throttled, 'every 429 is counted, once');
  assert.ok(r.summary.throttling.heldMs > 0);
  assert.ok(r.summary.throttling.resourceUnitsPerMinute > 0);
  assert.equal(r.summary.retries, 0, 'throttled tries are not retries');
  const rows = await items(db.url);
  assert.equal(rows.filter((row) => !row.is_folder).length, files.length);
  assertChildCountsExact(rows);

  const runs = JSON.parse((await runCli(['runs', '--database-url', db.url, '--json'])).stdout);
  assert.equal(runs[0].throttledRequests, stats.throttled, 'runs shows the throttled requests');
  assert.equal(runs[0].heldMs, r.summary.throttling.heldMs, 'and the time held');
});

test('a budget that stays spent past --throttle-timeout leaves the files not done deferred (throttled), the run partial, exit 0; the next run imports them', async () => {
  const db = await freshDatabase('thr_timeout');
  const src = await tempDir('src');
  const files = await makeTree(src, { corps: [4], folders: [''], filesPerFolder: 30, size: () => 100 });
  // A few uploads' worth, then the window is spent for ten minutes.
  emulator.budget.configure({ units: 12, windowMs: 600_000, rateLimitHeaders: false });

  const r = await runJson([src, '--threads', '2', '--throttle-timeout', '5s', ...onedriveArgs(db.url, '/thr-timeout')], env());

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.status, 'partial');
  assert.equal(r.summary.stopReason, 'throttle-timeout');
  assert.equal(r.summary.failed, 0);
  assert.ok(r.summary.uploaded < files.length, `${r.summary.uploaded} uploaded`);
  assert.equal(r.summary.throttling.deferred, files.length - r.summary.uploaded, 'every file not done is deferred as throttled');
  assert.equal(r.summary.deferred, r.summary.throttling.deferred);
  assert.match(r.stderr, /--throttle-timeout/);
  const rows = await items(db.url);
  assert.equal(rows.filter((row) => !row.is_folder).length, r.summary.uploaded, 'a row for every upload that finished, no other');
  assertChildCountsExact(rows);

  emulator.budget.off();
  const next = await runJson([src, '--threads', '2', ...onedriveArgs(db.url, '/thr-timeout')], env());
  assert.equal(next.code, 0, next.stderr);
  assert.equal(next.summary.uploaded, files.length - r.summary.uploaded);
  assert.equal(next.summary.unchanged, r.summary.uploaded);
  assertChildCountsExact(await items(db.url));
});

test('503s with no success for --blocked-after end the run failed with graph-blocked, one line saying what to check, and no file failed', async () => {
  const db = await freshDatabase('thr_blocked');
  const src = await tempDir('src');
  const files = await makeTree(src, { corps: [5], folders: [''], filesPerFolder: 40, size: () => 100 });
  let puts = 0;
  // After ten uploads the app is blocked: every request answers 503 with a short Retry-After.
  emulator.faults.throttle({ count: 100_000, retryAfterSeconds: 1, status: 503, match: (req) => (req.method === 'PUT' && ++puts > 10) || puts > 10 });

  const r = await runJson([src, '--threads', '2', '--blocked-after', '3s', ...onedriveArgs(db.url, '/thr-blocked')], env());

  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.summary.status, 'failed');
  assert.equal(r.summary.stopCode, 'graph-blocked');
  assert.equal(r.summary.failed, 0, 'the files not done are left for the next run, not failed');
  assert.equal(r.summary.uploaded + r.summary.leftForNextRun, files.length);
  const blockedLines = r.stderr.split('\n').filter((l) => /blocked this app/.test(l));
  assert.equal(blockedLines.length, 1, r.stderr);
  assert.match(blockedLines[0], /admin center/);
  assert.equal((await items(db.url)).filter((row) => !row.is_folder).length, r.summary.uploaded);
});

test('with RateLimit headers, one request at a time is never throttled: what remains of the window is spread until its reset', async () => {
  const db = await freshDatabase('thr_headers');
  const src = await tempDir('src');
  const files = await makeTree(src, { corps: [6], folders: [''], filesPerFolder: 60, size: () => 100 });
  // Unpaced, one request at a time spends the window in well under its 4 s and is then refused.
  emulator.budget.configure({ units: 20, windowMs: 4_000, rateLimitHeaders: true });

  const r = await runJson([src, '--threads', '1', '--tasks-per-thread', '1', ...onedriveArgs(db.url, '/thr-headers')], env());

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.uploaded, files.length);
  const stats = emulator.budget.stats();
  assert.ok(stats.withRateLimitHeaders > 0, 'the headers came');
  assert.equal(stats.throttled, 0, JSON.stringify({ ...stats, byKind: undefined, durationMs: r.summary.durationMs }));
});

test('--max-rate holds the resource units per minute of the whole run, across threads', async () => {
  const db = await freshDatabase('thr_maxrate');
  const src = await tempDir('src');
  await makeTree(src, { corps: [7], folders: ['', 'a'], filesPerFolder: 15, size: () => 100 });

  const r = await runJson([src, '--threads', '4', '--max-rate', '1200', ...onedriveArgs(db.url, '/thr-maxrate')], env());

  assert.equal(r.code, 0, r.stderr);
  const graph = graphRequests(emulator.requests()).sort((a, b) => a.startedAt - b.startedAt);
  // Paced, request n starts no earlier than the RU of the n before it allow at 20 RU a second.
  const units = graph.slice(0, -1).reduce((sum, q) => sum + priceOf(q), 0);
  const spanSeconds = (graph.at(-1)!.startedAt - graph[0].startedAt) / 1000;
  assert.ok(units / spanSeconds <= 20 * 1.05, `${units} RU in ${spanSeconds.toFixed(2)} s`);
});

test('--bwlimit holds the bytes per second of the whole run, fragments included', async () => {
  const db = await freshDatabase('thr_bwlimit');
  const src = await tempDir('src');
  await makeTree(src, { corps: [8], folders: [''], filesPerFolder: 3, size: () => 3 * CHUNK });

  const r = await runJson([src, '--threads', '2', '--bwlimit', '1MiB', '--simple-upload-max', '0', ...onedriveArgs(db.url, '/thr-bwlimit')], env());

  assert.equal(r.code, 0, r.stderr);
  const bodies = emulator.requests().filter((q) => q.bytes > 0).sort((a, b) => a.startedAt - b.startedAt);
  const bytes = bodies.slice(0, -1).reduce((sum, q) => sum + q.bytes, 0);
  const spanSeconds = (bodies.at(-1)!.startedAt - bodies[0].startedAt) / 1000;
  assert.ok(bytes / spanSeconds <= 1024 * 1024 * 1.05, `${bytes} bytes in ${spanSeconds.toFixed(2)} s`);
});

test('--user-agent is the User-Agent of every request', async () => {
  const db = await freshDatabase('thr_agent');
  const src = await tempDir('src');
  await makeTree(src, { corps: [9], folders: [''], filesPerFolder: 3, size: () => 100 });
  const agents = new Set<string>();
  emulator.faults.stall({ count: 1, match: (req) => (agents.add(String(req.headers['user-agent'])), false) });

  const r = await runJson([src, '--user-agent', 'ISV|Contoso|Archiver/2.1', ...onedriveArgs(db.url, '/thr-agent')], env());

  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual([...agents], ['ISV|Contoso|Archiver/2.1']);
});

test('the next run against the drive starts from the pace the last one learned, not unpaced into the spent budget', async () => {
  const db = await freshDatabase('thr_learned');
  const src = await tempDir('src');
  await makeTree(src, { corps: [10], folders: ['', 'a'], filesPerFolder: 40, size: () => 200 });
  /** RU per second the run's Graph requests spent before the first 429 (all of them if none came). */
  const paceBeforeFirstThrottle = () => {
    const graph = graphRequests(emulator.requests()).sort((a, b) => a.startedAt - b.startedAt);
    const until = graph.findIndex((q) => q.status === 429);
    const before = graph.slice(0, until < 0 ? graph.length : until);
    return before.slice(0, -1).reduce((sum, q) => sum + priceOf(q), 0) / ((before.at(-1)!.startedAt - before[0].startedAt) / 1000);
  };
  // 20 RU a second.
  emulator.budget.configure({ units: 80, windowMs: 4_000, rateLimitHeaders: false });
  const first = await runJson([src, '--threads', '4', ...onedriveArgs(db.url, '/thr-learned-1')], env());
  assert.equal(first.code, 0, first.stderr);
  const unpaced = paceBeforeFirstThrottle();

  emulator.resetRequests();
  emulator.budget.configure({ units: 80, windowMs: 4_000, rateLimitHeaders: false });
  const second = await runJson([src, '--threads', '4', ...onedriveArgs(db.url, '/thr-learned-2')], env());

  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.summary.failed, 0);
  assert.ok(unpaced > 40, `the first run went at ${unpaced.toFixed(1)} RU/s until its first 429`);
  const paced = paceBeforeFirstThrottle();
  assert.ok(paced <= 20 * 1.25, `the second run went at ${paced.toFixed(1)} RU/s until its first 429`);
});
