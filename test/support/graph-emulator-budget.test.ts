import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KiB320, bytes, call, createSession, json, manualClock, mkdir, putChunk, start, upload } from './graph-emulator-calls.js';
import type { GraphErrorBody } from './graph-emulator-calls.js';
import type { EmulatorStats, GraphEmulator } from './graph-emulator/server.js';

const MINUTE = 60_000;

/** RU charged so far (admitted and throttled). */
const unitsCharged = (graph: GraphEmulator): number => {
  const s = graph.budget.stats();
  return s.unitsAdmitted + s.unitsThrottled;
};

/** The RU one request costs: what the budget charged while it ran. */
async function costOf(graph: GraphEmulator, request: () => Promise<Response>): Promise<number> {
  const before = unitsCharged(graph);
  const response = await request();
  assert.ok(response.status < 400, `${response.status} ${await response.text()}`);
  await response.arrayBuffer().catch(() => undefined);
  return unitsCharged(graph) - before;
}

test('Graph requests are charged as Microsoft documents: 1 RU for a GET of one item, 2 RU for creates, uploads, sessions, lists, delta, PATCH and DELETE', async (t) => {
  const graph = await start(t);
  graph.budget.configure({ units: 10_000 });
  const folder = await mkdir(graph, graph.rootId, 'vmb');
  assert.equal(unitsCharged(graph), 2, 'folder create');
  assert.equal(await costOf(graph, () => call(graph, 'GET', `/items/${folder.id}`)), 1);
  assert.equal(await costOf(graph, () => call(graph, 'PUT', `/items/${folder.id}:/a.txt:/content`, Buffer.from('a'))), 2);
  assert.equal(await costOf(graph, () => call(graph, 'POST', `/items/${folder.id}:/b.bin:/createUploadSession`, { item: {} })), 2);
  assert.equal(await costOf(graph, () => call(graph, 'GET', `/items/${folder.id}/children`)), 2);
  assert.equal(await costOf(graph, () => call(graph, 'GET', '/root/delta')), 2);
  assert.equal(await costOf(graph, () => call(graph, 'PATCH', `/items/${folder.id}`, { name: 'renamed' })), 2);
  assert.equal(await costOf(graph, () => call(graph, 'DELETE', `/items/${folder.id}`)), 2);
  const byKind = graph.budget.stats().byKind;
  assert.deepEqual(byKind.getItem, { requests: 1, units: 1 });
  assert.deepEqual(byKind.createFolder, { requests: 1, units: 2 });
  assert.deepEqual(byKind.deleteItem, { requests: 1, units: 2 });
});

test('requests to an upload URL cost fragmentUnits per PUT and uploadUrlDeleteUnits per DELETE (0 unless set), and 1 RU per status GET', async (t) => {
  const graph = await start(t);
  graph.budget.configure({ units: 10_000 });
  const free = await createSession(graph, graph.rootId, 'free.bin');
  assert.equal(await costOf(graph, () => putChunk(free.uploadUrl, bytes(KiB320), 0, 2 * KiB320)), 0);
  assert.equal(await costOf(graph, () => fetch(free.uploadUrl)), 1);
  assert.equal(await costOf(graph, () => fetch(free.uploadUrl, { method: 'DELETE' })), 0);

  graph.budget.configure({ units: 10_000, fragmentUnits: 3, uploadUrlDeleteUnits: 4 });
  const priced = await createSession(graph, graph.rootId, 'priced.bin');
  assert.equal(await costOf(graph, () => putChunk(priced.uploadUrl, bytes(KiB320), 0, 2 * KiB320)), 3);
  assert.equal(await costOf(graph, () => fetch(priced.uploadUrl, { method: 'DELETE' })), 4);
});

test('prices are counted with no budget configured, and nothing is refused', async (t) => {
  const graph = await start(t);
  for (let i = 0; i < 5; i++) assert.equal((await call(graph, 'POST', '/root/children', { name: `f${i}`, folder: {} })).status, 201);
  const stats = graph.budget.stats();
  assert.equal(stats.config, null);
  assert.equal(stats.unitsAdmitted, 10);
  assert.equal(stats.admitted, 5);
  assert.equal(stats.throttled, 0);
});

test('a spent budget answers 429 activityLimitReached with Retry-After in whole seconds until the request fits', async (t) => {
  const clock = manualClock();
  const graph = await start(t, { clock: clock.now, budget: { units: 4, windowMs: MINUTE } });
  await mkdir(graph, graph.rootId, 'a');
  await mkdir(graph, graph.rootId, 'b');
  clock.advance(10_000);
  const refused = await call(graph, 'POST', '/root/children', { name: 'c', folder: {} });
  assert.equal(refused.status, 429);
  assert.equal((await json<GraphErrorBody>(refused)).error.code, 'activityLimitReached');
  assert.equal(refused.headers.get('retry-after'), '50', 'the window ends 50 s later and pays back 4 RU');
  assert.equal(graph.itemByPath('/c'), undefined);

  clock.advance(50_000);
  assert.equal((await call(graph, 'POST', '/root/children', { name: 'c', folder: {} })).status, 201);
});

test('throttled requests are charged too, so an app that keeps sending carries debt into the next window', async (t) => {
  const clock = manualClock();
  const graph = await start(t, { clock: clock.now, budget: { units: 4, windowMs: MINUTE } });
  await mkdir(graph, graph.rootId, 'a');
  await mkdir(graph, graph.rootId, 'b');
  for (let i = 0; i < 2; i++) assert.equal((await call(graph, 'GET', '/root/children')).status, 429);
  assert.equal(graph.budget.stats().unitsThrottled, 4);

  clock.advance(MINUTE);
  const stillRefused = await call(graph, 'GET', '/root/children');
  assert.equal(stillRefused.status, 429, 'the 4 RU of debt fill the new window');
  assert.equal(stillRefused.headers.get('retry-after'), '60');
  const stats = graph.budget.stats();
  assert.equal(stats.throttled, 3);
  assert.equal(stats.unitsThrottled, 6);
  assert.equal(stats.windowUnitsUsed, 6);
  assert.equal(stats.overBudgetMs, MINUTE, 'over budget from the first refusal until now');
});

test('an app that waited out Retry-After after one refusal is let through in the next window', async (t) => {
  const clock = manualClock();
  const graph = await start(t, { clock: clock.now, budget: { units: 4, windowMs: MINUTE } });
  await mkdir(graph, graph.rootId, 'a');
  await mkdir(graph, graph.rootId, 'b');
  const refused = await call(graph, 'GET', '/root/children');
  assert.equal(refused.status, 429);
  clock.advance(Number(refused.headers.get('retry-after')) * 1000);
  assert.equal((await call(graph, 'GET', '/root/children')).status, 200);
});

test('requests that cost nothing (fragments, by default) pass while the budget is spent', async (t) => {
  const graph = await start(t);
  const session = await createSession(graph, graph.rootId, 'big.bin');
  graph.budget.configure({ units: 2 });
  await mkdir(graph, graph.rootId, 'a');
  assert.equal((await call(graph, 'GET', '/root/children')).status, 429);
  assert.equal((await putChunk(session.uploadUrl, bytes(100), 0, 100)).status, 201);
});

test('RateLimit headers come on every answer once 80% of the window is used', async (t) => {
  const clock = manualClock();
  const graph = await start(t, { clock: clock.now, budget: { units: 10, windowMs: MINUTE } });
  for (let i = 0; i < 3; i++) {
    const response = await call(graph, 'POST', '/root/children', { name: `f${i}`, folder: {} });
    assert.equal(response.headers.get('ratelimit-limit'), null, `${(i + 1) * 2} RU of 10 used`);
  }
  clock.advance(15_000);
  const at80 = await call(graph, 'POST', '/root/children', { name: 'f3', folder: {} });
  assert.equal(at80.status, 201);
  assert.equal(at80.headers.get('ratelimit-limit'), '10');
  assert.equal(at80.headers.get('ratelimit-remaining'), '2');
  assert.equal(at80.headers.get('ratelimit-reset'), '45');
  const get = await call(graph, 'GET', '/root');
  assert.equal(get.headers.get('ratelimit-remaining'), '1');
  const refused = await call(graph, 'GET', '/root/children');
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get('ratelimit-remaining'), '0');
  assert.equal(graph.budget.stats().withRateLimitHeaders, 3);
});

test('with rateLimitHeaders false no RateLimit header is sent, not even when throttled', async (t) => {
  const graph = await start(t, { budget: { units: 4, rateLimitHeaders: false } });
  const answers = [];
  for (let i = 0; i < 3; i++) answers.push(await call(graph, 'POST', '/root/children', { name: `f${i}`, folder: {} }));
  assert.deepEqual(
    answers.map((r) => r.status),
    [201, 201, 429],
  );
  for (const response of answers) assert.equal(response.headers.get('ratelimit-limit'), null);
  assert.equal(graph.budget.stats().withRateLimitHeaders, 0);
});

test('omitRetryAfterEvery 3 leaves Retry-After out of every third throttled answer', async (t) => {
  const graph = await start(t, { budget: { units: 2, omitRetryAfterEvery: 3 } });
  await mkdir(graph, graph.rootId, 'a');
  const retryAfter = [];
  for (let i = 0; i < 6; i++) {
    const response = await call(graph, 'GET', '/root/children');
    assert.equal(response.status, 429);
    retryAfter.push(response.headers.get('retry-after') !== null);
  }
  assert.deepEqual(retryAfter, [true, true, false, true, true, false]);
  assert.equal(graph.budget.stats().throttledWithoutRetryAfter, 2);
});

test('a second, longer window refuses once its cap is spent although the first window has room', async (t) => {
  const clock = manualClock();
  const graph = await start(t, { clock: clock.now, budget: { units: 4, windowMs: MINUTE, dailyUnits: 6, dailyWindowMs: 10 * MINUTE } });
  await mkdir(graph, graph.rootId, 'a');
  await mkdir(graph, graph.rootId, 'b');
  clock.advance(MINUTE);
  await mkdir(graph, graph.rootId, 'c');
  const refused = await call(graph, 'POST', '/root/children', { name: 'd', folder: {} });
  assert.equal(refused.status, 429, 'the minute has 2 RU left, the long window none');
  assert.equal(refused.headers.get('retry-after'), String(9 * 60), 'until the long window ends');
});

test('after overuse lasting blockAfterMs every request gets 503 serviceNotAvailable with Retry-After until blockForMs has passed', async (t) => {
  const clock = manualClock();
  // 8 RU charged by the end of the overuse: four windows of 2 RU pay it back, 240 s from the start.
  const graph = await start(t, { clock: clock.now, budget: { units: 2, windowMs: MINUTE, blockAfterMs: 30_000, blockForMs: 210_000 } });
  await mkdir(graph, graph.rootId, 'a');
  assert.equal((await call(graph, 'GET', '/root/children')).status, 429, 'the stretch of overuse begins');
  clock.advance(20_000);
  assert.equal((await call(graph, 'GET', '/root/children')).status, 429);
  clock.advance(10_000);
  assert.equal((await call(graph, 'GET', '/root/children')).status, 429, '30 s of overuse: this one still gets 429');

  const blocked = await call(graph, 'GET', '/root');
  assert.equal(blocked.status, 503);
  assert.equal((await json<GraphErrorBody>(blocked)).error.code, 'serviceNotAvailable');
  assert.equal(blocked.headers.get('retry-after'), '210');
  const session = await fetch(`${graph.url.replace('/v1.0', '')}/upload/sessions/x?tempauth=y`);
  assert.equal(session.status, 503, 'upload URLs are blocked too');

  clock.advance(210_000);
  assert.equal((await call(graph, 'GET', '/root')).status, 200);
  const stats = graph.budget.stats();
  assert.equal(stats.blocks, 1);
  assert.equal(stats.blocked, 2);
  assert.equal(stats.blockedUntil, null);
});

test('budget.block() refuses every request with 503 until budget.unblock()', async (t) => {
  const graph = await start(t);
  graph.budget.block(60_000);
  const blocked = await call(graph, 'GET', '/root');
  assert.equal(blocked.status, 503);
  assert.equal(blocked.headers.get('retry-after'), '60');
  graph.budget.unblock();
  assert.equal((await call(graph, 'GET', '/root')).status, 200);
});

test('budget.off() lets everything through again, and reset() also zeroes the counters', async (t) => {
  const graph = await start(t, { budget: { units: 2 } });
  await mkdir(graph, graph.rootId, 'a');
  assert.equal((await call(graph, 'GET', '/root/children')).status, 429);
  graph.budget.off();
  assert.equal((await call(graph, 'GET', '/root/children')).status, 200);
  assert.equal(graph.budget.stats().throttled, 1);
  graph.budget.reset();
  assert.equal(graph.budget.stats().throttled, 0);
  assert.equal(graph.budget.stats().unitsAdmitted, 0);
});

test('GET /_emulator/stats answers every counter as JSON without a token, and is neither charged nor recorded', async (t) => {
  const clock = manualClock();
  const graph = await start(t, { clock: clock.now, budget: { units: 2, omitRetryAfterEvery: 1 } });
  await upload(graph, graph.rootId, 'a.txt', Buffer.from('abc'));
  assert.equal((await call(graph, 'GET', '/root/children')).status, 429);
  graph.faults.failNext({ count: 1, status: 500 });
  graph.budget.off();
  assert.equal((await call(graph, 'GET', '/root')).status, 500);

  const response = await fetch(graph.statsUrl);
  assert.equal(response.status, 200);
  const stats = await json<EmulatorStats>(response);
  assert.deepEqual(stats, graph.stats());
  assert.deepEqual(stats.requests, { received: 3, inProgress: 0, byStatus: { 201: 1, 429: 1, 500: 1 } });
  assert.equal(stats.budget.admitted, 2);
  assert.equal(stats.budget.throttled, 1);
  assert.equal(stats.budget.throttledWithoutRetryAfter, 1);
  assert.equal(stats.budget.unitsAdmitted, 3);
  assert.equal(stats.faults.failed, 1);
  assert.deepEqual(stats.drive, { files: 1, folders: 0, bytes: 3 });
  assert.equal(graph.requests().length, 3);
  assert.equal(stats.budget.firstRequestAt, clock.now());
  assert.equal(stats.budget.lastRequestAt, clock.now());
});
