import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { KiB320, bytes, createSession, json, manualClock, putChunk, start } from './graph-emulator-calls.js';
import type { GraphErrorBody, SessionBody } from './graph-emulator-calls.js';
import type { GraphEmulator, UploadSessionInfo } from './graph-emulator/server.js';

const HOUR = 3_600_000;

function sessionNamed(graph: GraphEmulator, name: string): UploadSessionInfo {
  const session = graph.uploadSessions().find((s) => s.name === name);
  assert.ok(session, `a session for ${name}`);
  return session;
}

/** Polls `condition` (every 5 ms, up to 10 s) for server-side effects of a client that went away. */
async function eventually(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (condition()) return;
    await sleep(5);
  }
  assert.fail(`never happened: ${what}`);
}

test('an upload URL older than sessionTokenLifetimeMs answers 401 unauthenticated with inner code expiredToken, whatever its progress', async (t) => {
  const clock = manualClock();
  const graph = await start(t, { clock: clock.now, sessionTokenLifetimeMs: 24 * HOUR, sessionLifetimeMs: 48 * HOUR });
  const content = bytes(2 * KiB320);
  const session = await createSession(graph, graph.rootId, 'big.bin');
  clock.advance(24 * HOUR - 1);
  assert.equal((await putChunk(session.uploadUrl, content.subarray(0, KiB320), 0, content.length)).status, 202);
  clock.advance(1);
  for (const response of [await putChunk(session.uploadUrl, content.subarray(KiB320), KiB320, content.length), await fetch(session.uploadUrl)]) {
    assert.equal(response.status, 401);
    const body = await json<GraphErrorBody>(response);
    assert.equal(body.error.code, 'unauthenticated');
    assert.equal(body.error.innerError.code, 'expiredToken');
  }
  assert.equal(graph.faults.counts.expiredTokenHits, 2);
  assert.equal(sessionNamed(graph, 'big.bin').state, 'tokenExpired');
  assert.equal(graph.openSessions(), 0);
});

test('faults.sessionTokenLifetimeMs set at run time applies to sessions already open, and reset() restores it', async (t) => {
  const clock = manualClock();
  const graph = await start(t, { clock: clock.now });
  const session = await createSession(graph, graph.rootId, 'a.bin');
  clock.advance(10 * 60_000);
  graph.faults.sessionTokenLifetimeMs = 10 * 60_000;
  assert.equal((await fetch(session.uploadUrl)).status, 401);
  graph.faults.reset();
  assert.equal((await fetch(session.uploadUrl)).status, 200);
});

test("denySessions makes the matching sessions' upload URLs answer 403 accessDenied while the others go on", async (t) => {
  const graph = await start(t);
  const denied = await createSession(graph, graph.rootId, 'denied.bin');
  const other = await createSession(graph, graph.rootId, 'other.bin');
  graph.faults.denySessions((s) => s.name === 'denied.bin');
  const response = await putChunk(denied.uploadUrl, bytes(100), 0, 100);
  assert.equal(response.status, 403);
  assert.equal((await json<GraphErrorBody>(response)).error.code, 'accessDenied');
  assert.equal((await fetch(denied.uploadUrl)).status, 403);
  assert.equal((await putChunk(other.uploadUrl, bytes(100), 0, 100)).status, 201);
  assert.equal(graph.faults.counts.sessionsDenied, 1);
  assert.equal(graph.faults.counts.deniedSessionHits, 2);
  assert.equal(sessionNamed(graph, 'denied.bin').state, 'denied');
});

test('a session counts the bytes of accepted fragments and of refused ones, and is remembered after it completes', async (t) => {
  const graph = await start(t);
  const content = bytes(2 * KiB320 + 10);
  const session = await createSession(graph, graph.rootId, 'big.bin');
  const first = content.subarray(0, KiB320);
  assert.equal((await putChunk(session.uploadUrl, first, 0, content.length)).status, 202);
  assert.equal((await putChunk(session.uploadUrl, first, 0, content.length)).status, 416, 'a resumed client re-sends the first fragment');
  assert.equal((await putChunk(session.uploadUrl, content.subarray(KiB320, 2 * KiB320), KiB320, content.length)).status, 202);
  assert.equal((await putChunk(session.uploadUrl, content.subarray(2 * KiB320), 2 * KiB320, content.length)).status, 201);

  const info = sessionNamed(graph, 'big.bin');
  assert.equal(info.state, 'completed');
  assert.equal(info.bytesAccepted, content.length);
  assert.equal(info.fragmentsAccepted, 3);
  assert.equal(info.bytesRefused, KiB320);
  assert.equal(info.fragmentsRefused, 1);
  assert.equal(info.bytesCutOff, 0);
  const totals = graph.stats().sessions;
  assert.equal(totals.created, 1);
  assert.equal(totals.completed, 1);
  assert.equal(totals.bytesAccepted, content.length);
});

test('a fragment cut off mid-body counts for nothing: nextExpectedRanges stays where it was and its bytes count as cut off', async (t) => {
  const graph = await start(t);
  const content = bytes(3 * KiB320);
  const session = await createSession(graph, graph.rootId, 'big.bin');
  assert.equal((await putChunk(session.uploadUrl, content.subarray(0, KiB320), 0, content.length)).status, 202);

  // A client that dies after sending part of the second fragment.
  const partial = request(session.uploadUrl, {
    method: 'PUT',
    headers: { 'content-range': `bytes ${KiB320}-${2 * KiB320 - 1}/${content.length}`, 'content-length': KiB320 },
  });
  partial.on('error', () => {});
  partial.write(content.subarray(KiB320, KiB320 + 100_000));
  const requestsBefore = graph.requests().length;
  await eventually(() => graph.requests()[requestsBefore]?.bytes === 100_000, 'the first 100,000 bytes reached the emulator');
  partial.destroy();
  await eventually(() => sessionNamed(graph, 'big.bin').fragmentsCutOff === 1, 'the session counted the cut-off fragment');

  const info = sessionNamed(graph, 'big.bin');
  assert.equal(info.bytesCutOff, 100_000);
  assert.equal(info.bytesAccepted, KiB320);
  assert.equal(info.received, KiB320);
  const status = await fetch(session.uploadUrl);
  assert.deepEqual((await json<SessionBody>(status)).nextExpectedRanges, [`${KiB320}-`]);
});

test('a fragment lost to the dropConnection fault counts its bytes as cut off', async (t) => {
  const graph = await start(t);
  const content = bytes(2 * KiB320);
  const session = await createSession(graph, graph.rootId, 'big.bin');
  graph.faults.dropConnection({ count: 1, afterBytes: 100_000, match: (r) => r.toUploadUrl && r.method === 'PUT' });
  await assert.rejects(putChunk(session.uploadUrl, content.subarray(0, KiB320), 0, content.length));
  const info = sessionNamed(graph, 'big.bin');
  assert.equal(info.fragmentsCutOff, 1);
  assert.ok(info.bytesCutOff >= 100_000 && info.bytesCutOff < KiB320, String(info.bytesCutOff));
  assert.equal(info.bytesAccepted, 0);
});

test('GET on an upload URL answers nextExpectedRanges and expirationDateTime; DELETE answers 204 and ends the session as cancelled', async (t) => {
  const clock = manualClock();
  const graph = await start(t, { clock: clock.now, sessionLifetimeMs: HOUR });
  const session = await createSession(graph, graph.rootId, 'big.bin');
  clock.advance(1000);
  assert.equal((await putChunk(session.uploadUrl, bytes(KiB320), 0, 2 * KiB320)).status, 202);
  const status = await fetch(session.uploadUrl);
  assert.equal(status.status, 200);
  const body = await json<SessionBody>(status);
  assert.deepEqual(body.nextExpectedRanges, [`${KiB320}-`]);
  assert.equal(body.expirationDateTime, new Date(clock.now() + HOUR).toISOString(), 'each fragment extends the expiry');

  assert.equal((await fetch(session.uploadUrl, { method: 'DELETE' })).status, 204);
  assert.equal((await fetch(session.uploadUrl)).status, 404);
  assert.equal(sessionNamed(graph, 'big.bin').state, 'cancelled');
});
