import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { VmbError } from '../../../src/errors/vmb-error.js';
import { quickXorHashBase64 } from '../../../src/hash/quickxorhash.js';
import type { RequestRecord } from '../../support/graph-emulator/server.js';
import { CHUNK, countingCredential, isUploadUrl, patterned, startHarness, type Harness } from './harness.js';

async function uploadIn(h: Harness, target: ReturnType<Harness['target']>, name: string, bytes: Buffer) {
  const parentId = await target.ensureFolder({ parentId: null, name: 'in', remotePath: 'in' });
  const absPath = await h.file(name, bytes);
  return target.upload({ source: h.source(absPath), parentId, name, remotePath: `in/${name}` });
}

/** Chunk PUTs and status GETs on upload URLs, as `PUT <first byte> <status>` / `GET <status>`. */
function sessionTrace(requests: RequestRecord[]): string[] {
  return requests
    .filter((r) => isUploadUrl(r.path) || r.path.endsWith('/createUploadSession'))
    .map((r) => (r.method === 'PUT' ? `PUT ${/bytes (\d+)-/.exec(r.contentRange ?? '')?.[1]} ${r.status}` : `${r.method}${isUploadUrl(r.path) ? '' : ' create'} ${r.status}`));
}

const startsChunk = (offset: number) => (r: { toUploadUrl: boolean; method: string; headers: Record<string, unknown> }) =>
  r.toUploadUrl && r.method === 'PUT' && String(r.headers['content-range']).startsWith(`bytes ${offset}-`);

/** Each 429 holds back every request that starts after it for `seconds`. */
function assertHeldAfterThrottles(requests: RequestRecord[], seconds: number): number {
  const throttled = requests.filter((r) => r.status === 429);
  for (const t of throttled) {
    for (const r of requests) {
      if (r.startedAt > t.endedAt!) {
        assert.ok(r.startedAt >= t.endedAt! + seconds * 1000, `${r.method} ${r.path} started ${Math.round(r.startedAt - t.endedAt!)} ms after a 429`);
      }
    }
  }
  return throttled.length;
}

test('a connection dropped mid-chunk resumes from the server’s position without re-sending finished chunks', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const bytes = patterned(4 * CHUNK - 100);
  h.emulator.faults.dropConnection({ count: 1, afterBytes: 100_000, match: startsChunk(2 * CHUNK) });
  const uploaded = await uploadIn(h, h.target(), 'dropped.bin', bytes);
  assert.deepEqual(sessionTrace(h.emulator.requests()), [
    'POST create 200',
    'PUT 0 202',
    `PUT ${CHUNK} 202`,
    `PUT ${2 * CHUNK} 0`,
    'GET 200',
    `PUT ${2 * CHUNK} 202`,
    `PUT ${3 * CHUNK} 201`,
  ]);
  assert.equal(uploaded.localHash, quickXorHashBase64(bytes));
  assert.equal(uploaded.remoteHash, uploaded.localHash);
  assert.equal(uploaded.retries, 1);
});

test('an expired upload session is restarted from the first byte and the hash still matches', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const bytes = patterned(3 * CHUNK + 7);
  // A match predicate runs as the request's headers arrive: expire the session just before chunk 3.
  let expired = false;
  h.emulator.faults.stall({
    count: 1,
    match: (r) => {
      if (!expired && startsChunk(2 * CHUNK)(r)) {
        expired = true;
        h.emulator.faults.expireSessions();
      }
      return false;
    },
  });
  const uploaded = await uploadIn(h, h.target(), 'expired.bin', bytes);
  assert.deepEqual(sessionTrace(h.emulator.requests()), [
    'POST create 200',
    'PUT 0 202',
    `PUT ${CHUNK} 202`,
    `PUT ${2 * CHUNK} 404`,
    'POST create 200',
    'PUT 0 202',
    `PUT ${CHUNK} 202`,
    `PUT ${2 * CHUNK} 202`,
    `PUT ${3 * CHUNK} 201`,
  ]);
  assert.equal(uploaded.localHash, quickXorHashBase64(bytes));
  assert.equal(uploaded.remoteHash, uploaded.localHash);
});

test('a burst of 429s with Retry-After: 2 sends nothing until 2 s after each 429', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const target = h.target();
  await target.ensureFolder({ parentId: null, name: 'in', remotePath: 'in' });
  h.emulator.faults.throttle({ count: 2, retryAfterSeconds: 2, match: startsChunk(CHUNK) });
  const uploaded = await uploadIn(h, target, 'slow.bin', patterned(2 * CHUNK + 1));
  assert.equal(assertHeldAfterThrottles(h.emulator.requests(), 2), 2);
  // Throttled tries wait their turn; they are not retries.
  assert.equal(uploaded.retries, 0);
  assert.equal(uploaded.remoteHash, uploaded.localHash);
});

test('a Retry-After seen by one target holds back a second target sharing the governor buffer', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const first = h.target();
  const second = h.target();
  h.emulator.faults.throttle({ count: 1, retryAfterSeconds: 2 });
  const throttled = first.ensureFolder({ parentId: null, name: 'a', remotePath: 'a' });
  const slot = new BigInt64Array(h.governorBuffer);
  while (Atomics.load(slot, 0) === 0n) await sleep(5);
  const requestsBefore = h.emulator.requests().length;
  await Promise.all([throttled, second.ensureFolder({ parentId: null, name: 'b', remotePath: 'b' })]);
  const requests = h.emulator.requests();
  const [throttle] = requests.filter((r) => r.status === 429);
  const secondsFirst = requests.slice(requestsBefore).reduce((min, r) => Math.min(min, r.startedAt), Infinity);
  assert.ok(secondsFirst >= throttle.endedAt! + 2000, `the next request started ${Math.round(secondsFirst - throttle.endedAt!)} ms after the 429`);
  assertHeldAfterThrottles(requests, 2);
});

test('a stalled request times out and is retried', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const target = h.target({ requestTimeoutMs: 300 });
  await target.ensureFolder({ parentId: null, name: 'warm', remotePath: 'warm' });
  h.emulator.faults.stall({ count: 1, match: (r) => r.method === 'POST' });
  const started = Date.now();
  const id = await target.ensureFolder({ parentId: null, name: 'x', remotePath: 'x' });
  assert.ok(Date.now() - started >= 300);
  assert.equal(h.emulator.itemByPath('/vmb/x')?.id, id);
  assert.equal(h.emulator.faults.counts.stalled, 1);
});

test('a stalled chunk times out, and the upload resumes and completes', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const bytes = patterned(3 * CHUNK);
  h.emulator.faults.stall({ count: 1, match: startsChunk(CHUNK) });
  const uploaded = await uploadIn(h, h.target({ requestTimeoutMs: 300 }), 'stalled.bin', bytes);
  assert.equal(uploaded.remoteHash, quickXorHashBase64(bytes));
  assert.equal(uploaded.retries, 1);
});

test('a 401 refreshes the token once and the retried request succeeds', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const credential = countingCredential(() => h.emulator.token);
  const target = h.target({}, credential);
  await target.ensureFolder({ parentId: null, name: 'a', remotePath: 'a' });
  h.emulator.setToken('rotated-token');
  const id = await target.ensureFolder({ parentId: null, name: 'b', remotePath: 'b' });
  assert.equal(h.emulator.itemByPath('/vmb/b')?.id, id);
  assert.equal(credential.calls, 2);
  assert.equal(h.emulator.requests().filter((r) => r.status === 401).length, 1);
});

test('a 401 that survives a token refresh stops the run after exactly one refresh', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const credential = countingCredential(() => 'never-accepted-token');
  await assert.rejects(h.target({}, credential).ensureFolder({ parentId: null, name: 'a', remotePath: 'a' }), { kind: 'fatal', code: 'graph-unauthenticated' });
  assert.equal(credential.calls, 2);
});

test('a rejected static token is not refreshed and does not appear in the error', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const secret = 'static-secret-token-0123456789';
  const err = await h
    .target({ staticToken: secret })
    .ensureFolder({ parentId: null, name: 'a', remotePath: 'a' })
    .then(() => assert.fail('expected a rejection'), (e: unknown) => e);
  assert.ok(err instanceof VmbError);
  assert.equal(err.code, 'graph-unauthenticated');
  assert.ok(!everyMessage(err).includes(secret), everyMessage(err));
  assert.equal(h.emulator.requests().length, 1);
});

test('an upload URL that keeps failing gives an error without its tempauth', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  h.emulator.faults.failNext({ count: 10, status: 500, match: (r) => r.toUploadUrl });
  const err = await uploadIn(h, h.target({ retries: 1 }), 'failing.bin', patterned(2 * CHUNK)).then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof VmbError);
  assert.equal(err.code, 'graph-server-error');
  const tempauth = h.emulator.requests().find((r) => isUploadUrl(r.path))?.query.tempauth;
  assert.ok(tempauth !== undefined && tempauth.length > 8);
  assert.ok(!everyMessage(err).includes(tempauth), everyMessage(err));
  assert.match(err.message, /upload session/);
});

/** The message of an error and of every cause below it. */
function everyMessage(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = e.cause) parts.push(e.message, e.stack ?? '');
  return parts.join('\n');
}
