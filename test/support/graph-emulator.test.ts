import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quickXorHashBase64 } from '../../src/hash/quickxorhash.js';
import { CONFLICT, KiB320, bytes, call, createSession, json, mkdir, putChunk, start } from './graph-emulator-calls.js';
import type { DriveItem, GraphErrorBody, SessionBody } from './graph-emulator-calls.js';

test('Graph requests without a bearer token are refused with 401 unauthenticated', async (t) => {
  const graph = await start(t);
  const response = await fetch(`${graph.url}/drives/${graph.driveId}/root`);
  assert.equal(response.status, 401);
  const body = await json<GraphErrorBody>(response);
  assert.equal(body.error.code, 'unauthenticated');
  assert.equal(body.error.innerError.code, 'InvalidAuthenticationToken');
});

test('a token the emulator no longer accepts gets 401 and the new one succeeds', async (t) => {
  const graph = await start(t);
  const old = graph.token;
  assert.equal((await call(graph, 'GET', '/root')).status, 200);
  graph.setToken('rotated-token');
  assert.equal((await call(graph, 'GET', '/root', undefined, old)).status, 401);
  assert.equal((await call(graph, 'GET', '/root', undefined, 'rotated-token')).status, 200);
});

test('the drive root is returned as a folder with its own id', async (t) => {
  const graph = await start(t);
  const root = await json<DriveItem & { root?: object }>(await call(graph, 'GET', '/root'));
  assert.equal(root.id, graph.rootId);
  assert.ok(root.folder);
  assert.deepEqual(root.root, {});
});

test('creating a folder answers 201 and creating it again with fail answers 409 nameAlreadyExists', async (t) => {
  const graph = await start(t);
  const folder = await mkdir(graph, graph.rootId, 'vmb');
  assert.equal(folder.name, 'vmb');
  assert.equal(folder.parentReference.id, graph.rootId);
  const again = await call(graph, 'POST', `/items/${graph.rootId}/children`, { name: 'VMB', folder: {}, [CONFLICT]: 'fail' });
  assert.equal(again.status, 409);
  assert.equal((await json<GraphErrorBody>(again)).error.code, 'nameAlreadyExists');
});

test('creating an existing folder with replace answers 200 with the same folder id', async (t) => {
  const graph = await start(t);
  const folder = await mkdir(graph, graph.rootId, 'vmb');
  const again = await call(graph, 'POST', '/root/children', { name: 'vmb', folder: {}, [CONFLICT]: 'replace' });
  assert.equal(again.status, 200);
  assert.equal((await json<DriveItem>(again)).id, folder.id);
});

test('creating an existing folder with rename creates "name 1"', async (t) => {
  const graph = await start(t);
  await mkdir(graph, graph.rootId, 'vmb');
  const again = await call(graph, 'POST', '/root/children', { name: 'vmb', folder: {}, [CONFLICT]: 'rename' });
  assert.equal(again.status, 201);
  assert.equal((await json<DriveItem>(again)).name, 'vmb 1');
});

test('a simple upload creates a file with 201, and replacing it answers 200 with the same id and the new hash', async (t) => {
  const graph = await start(t);
  const folder = await mkdir(graph, graph.rootId, 'vmb');
  const first = Buffer.from('first version');
  const created = await call(graph, 'PUT', `/items/${folder.id}:/a.txt:/content`, first);
  assert.equal(created.status, 201);
  const item = await json<DriveItem>(created);
  assert.equal(item.size, first.length);
  assert.equal(item.file?.hashes.quickXorHash, quickXorHashBase64(first));

  const second = Buffer.from('the second, longer version');
  const replaced = await call(graph, 'PUT', `/items/${folder.id}:/a.txt:/content`, second);
  assert.equal(replaced.status, 200);
  const again = await json<DriveItem>(replaced);
  assert.equal(again.id, item.id);
  assert.equal(again.file?.hashes.quickXorHash, quickXorHashBase64(second));
  const stored = graph.itemByPath('/vmb/a.txt');
  assert.deepEqual(stored?.content, second);
  assert.equal(stored?.quickXorHash, quickXorHashBase64(second));
});

test('a simple upload by item id replaces the content in place', async (t) => {
  const graph = await start(t);
  const item = await json<DriveItem>(await call(graph, 'PUT', '/root:/a.txt:/content', Buffer.from('one')));
  const replaced = await call(graph, 'PUT', `/items/${item.id}/content`, Buffer.from('two'));
  assert.equal(replaced.status, 200);
  assert.equal((await json<DriveItem>(replaced)).id, item.id);
  assert.deepEqual(graph.itemByPath('/a.txt')?.content, Buffer.from('two'));
});

test('a simple upload with conflictBehavior fail onto an existing file answers 409', async (t) => {
  const graph = await start(t);
  await call(graph, 'PUT', '/root:/a.txt:/content', Buffer.from('one'));
  const response = await call(graph, 'PUT', `/root:/a.txt:/content?${CONFLICT}=fail`, Buffer.from('two'));
  assert.equal(response.status, 409);
  assert.equal((await json<GraphErrorBody>(response)).error.code, 'nameAlreadyExists');
});

test('a simple upload larger than simpleUploadMax is refused with 413 requestTooLarge', async (t) => {
  const graph = await start(t, { simpleUploadMax: 4 * 1024 * 1024 });
  const response = await call(graph, 'PUT', '/root:/big.bin:/content', bytes(4 * 1024 * 1024 + 1));
  assert.equal(response.status, 413);
  assert.equal((await json<GraphErrorBody>(response)).error.code, 'requestTooLarge');
  assert.equal(graph.itemByPath('/big.bin'), undefined);
});

test('an empty simple upload stores a 0-byte file with the empty hash', async (t) => {
  const graph = await start(t);
  const response = await call(graph, 'PUT', '/root:/empty.txt:/content', Buffer.alloc(0));
  assert.equal(response.status, 201);
  const item = await json<DriveItem>(response);
  assert.equal(item.size, 0);
  assert.equal(item.file?.hashes.quickXorHash, 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=');
});

test('a simple upload into a folder that does not exist answers 404 itemNotFound', async (t) => {
  const graph = await start(t);
  const response = await call(graph, 'PUT', '/root:/missing/a.txt:/content', Buffer.from('x'));
  assert.equal(response.status, 404);
  assert.equal((await json<GraphErrorBody>(response)).error.code, 'itemNotFound');
});

test('an upload session in three chunks creates the file with the bytes and hash sent', async (t) => {
  const graph = await start(t);
  const folder = await mkdir(graph, graph.rootId, 'vmb');
  const content = bytes(2 * KiB320 + 1000);
  const session = await createSession(graph, folder.id, 'big.bin');
  assert.deepEqual(session.nextExpectedRanges, ['0-']);
  assert.ok(Date.parse(session.expirationDateTime) > Date.now());

  const first = await putChunk(session.uploadUrl, content.subarray(0, KiB320), 0, content.length);
  assert.equal(first.status, 202);
  assert.deepEqual((await json<SessionBody>(first)).nextExpectedRanges, [`${KiB320}-`]);
  const second = await putChunk(session.uploadUrl, content.subarray(KiB320, 2 * KiB320), KiB320, content.length);
  assert.equal(second.status, 202);
  assert.deepEqual((await json<SessionBody>(second)).nextExpectedRanges, [`${2 * KiB320}-`]);
  const last = await putChunk(session.uploadUrl, content.subarray(2 * KiB320), 2 * KiB320, content.length);
  assert.equal(last.status, 201);
  const item = await json<DriveItem>(last);
  assert.equal(item.size, content.length);
  assert.equal(item.file?.hashes.quickXorHash, quickXorHashBase64(content));
  assert.deepEqual(graph.itemByPath('/vmb/big.bin')?.content, content);
  assert.equal(graph.openSessions(), 0);
});

test('an upload session onto an existing file with replace answers 200 and keeps the id', async (t) => {
  const graph = await start(t);
  const old = await json<DriveItem>(await call(graph, 'PUT', '/root:/a.bin:/content', Buffer.from('old')));
  const content = bytes(1000);
  const session = await createSession(graph, graph.rootId, 'a.bin', 'replace');
  const done = await putChunk(session.uploadUrl, content, 0, content.length);
  assert.equal(done.status, 200);
  assert.equal((await json<DriveItem>(done)).id, old.id);
});

test('a middle chunk that is not a multiple of 320 KiB is rejected with 400 invalidRequest', async (t) => {
  const graph = await start(t);
  const session = await createSession(graph, graph.rootId, 'big.bin');
  const response = await putChunk(session.uploadUrl, bytes(KiB320 + 1), 0, 3 * KiB320);
  assert.equal(response.status, 400);
  const body = await json<GraphErrorBody>(response);
  assert.equal(body.error.code, 'invalidRequest');
  assert.match(body.error.message, /multiple of 320 KiB/);
});

test('a chunk that starts past the next expected byte is rejected with 416', async (t) => {
  const graph = await start(t);
  const session = await createSession(graph, graph.rootId, 'big.bin');
  const response = await putChunk(session.uploadUrl, bytes(KiB320), KiB320, 3 * KiB320);
  assert.equal(response.status, 416);
  const body = await json<GraphErrorBody>(response);
  assert.equal(body.error.code, 'invalidRange');
  assert.deepEqual(body.nextExpectedRanges, ['0-']);
});

test('a chunk that was already received is rejected with 416 and the current nextExpectedRanges', async (t) => {
  const graph = await start(t);
  const session = await createSession(graph, graph.rootId, 'big.bin');
  const chunk = bytes(KiB320);
  assert.equal((await putChunk(session.uploadUrl, chunk, 0, 3 * KiB320)).status, 202);
  const again = await putChunk(session.uploadUrl, chunk, 0, 3 * KiB320);
  assert.equal(again.status, 416);
  assert.deepEqual((await json<GraphErrorBody>(again)).nextExpectedRanges, [`${KiB320}-`]);
});

test('the range "bytes 0--1/0" is rejected with 400', async (t) => {
  const graph = await start(t);
  const session = await createSession(graph, graph.rootId, 'empty.bin');
  const response = await fetch(session.uploadUrl, { method: 'PUT', headers: { 'content-range': 'bytes 0--1/0' }, body: Buffer.alloc(0) });
  assert.equal(response.status, 400);
});

test('a connection dropped in the middle of a chunk leaves nextExpectedRanges at the end of the last complete chunk', async (t) => {
  const graph = await start(t);
  const content = bytes(3 * KiB320);
  const session = await createSession(graph, graph.rootId, 'big.bin');
  assert.equal((await putChunk(session.uploadUrl, content.subarray(0, KiB320), 0, content.length)).status, 202);

  graph.faults.dropConnection({ count: 1, afterBytes: 100_000, match: (r) => r.toUploadUrl && r.method === 'PUT' });
  await assert.rejects(putChunk(session.uploadUrl, content.subarray(KiB320, 2 * KiB320), KiB320, content.length));
  assert.equal(graph.faults.counts.dropped, 1);

  const status = await fetch(session.uploadUrl);
  assert.equal(status.status, 200);
  assert.deepEqual((await json<SessionBody>(status)).nextExpectedRanges, [`${KiB320}-`]);
  const dropped = graph.requests().find((r) => r.status === 0);
  assert.ok(dropped !== undefined && dropped.bytes >= 100_000 && dropped.bytes < KiB320);
});

test('an expired upload session answers 404 itemNotFound with inner code uploadSessionNotFound', async (t) => {
  const graph = await start(t);
  const session = await createSession(graph, graph.rootId, 'big.bin');
  graph.faults.expireSessions();
  const response = await putChunk(session.uploadUrl, bytes(100), 0, 100);
  assert.equal(response.status, 404);
  const body = await json<GraphErrorBody>(response);
  assert.equal(body.error.code, 'itemNotFound');
  assert.equal(body.error.innerError.code, 'uploadSessionNotFound');
  assert.equal(graph.faults.counts.sessionsExpired, 1);
  assert.equal(graph.faults.counts.expiredSessionHits, 1);
});

test('an upload session past its lifetime answers 404', async (t) => {
  const graph = await start(t);
  graph.faults.sessionLifetimeMs = 30;
  const session = await createSession(graph, graph.rootId, 'big.bin');
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal((await fetch(session.uploadUrl)).status, 404);
});

test('a cancelled upload session answers 204 and then 404', async (t) => {
  const graph = await start(t);
  const session = await createSession(graph, graph.rootId, 'big.bin');
  assert.equal((await fetch(session.uploadUrl, { method: 'DELETE' })).status, 204);
  assert.equal((await fetch(session.uploadUrl)).status, 404);
});

test('an upload URL request that carries an Authorization header is refused with 401', async (t) => {
  const graph = await start(t);
  const session = await createSession(graph, graph.rootId, 'big.bin');
  const response = await putChunk(session.uploadUrl, bytes(100), 0, 100, { authorization: `Bearer ${graph.token}` });
  assert.equal(response.status, 401);
  assert.equal((await json<GraphErrorBody>(response)).error.code, 'unauthenticated');
  assert.equal((await putChunk(session.uploadUrl, bytes(100), 0, 100)).status, 201);
});

test('an upload URL with a re-encoded or wrong tempauth is refused with 401', async (t) => {
  const graph = await start(t);
  const session = await createSession(graph, graph.rootId, 'big.bin');
  const tampered = session.uploadUrl.replace(/tempauth=.*/, 'tempauth=nope');
  assert.equal((await fetch(tampered)).status, 401);
});

test('throttling answers 429 with Retry-After, and the request after it goes through', async (t) => {
  const graph = await start(t);
  graph.faults.throttle({ count: 1, retryAfterSeconds: 7 });
  const throttled = await call(graph, 'GET', '/root');
  assert.equal(throttled.status, 429);
  assert.equal(throttled.headers.get('retry-after'), '7');
  assert.equal((await json<GraphErrorBody>(throttled)).error.code, 'activityLimitReached');
  assert.equal((await call(graph, 'GET', '/root')).status, 200);
  assert.equal(graph.faults.counts.throttled, 1);
});

test('throttling can answer 503 with Retry-After and target only matching requests', async (t) => {
  const graph = await start(t);
  graph.faults.throttle({ count: 1, retryAfterSeconds: 2, status: 503, match: (r) => r.method === 'POST' });
  assert.equal((await call(graph, 'GET', '/root')).status, 200);
  const response = await call(graph, 'POST', '/root/children', { name: 'x', folder: {} });
  assert.equal(response.status, 503);
  assert.equal(response.headers.get('retry-after'), '2');
});

test('failNext answers the status asked for without Retry-After', async (t) => {
  const graph = await start(t);
  graph.faults.failNext({ count: 2, status: 502 });
  for (let i = 0; i < 2; i++) {
    const response = await call(graph, 'GET', '/root');
    assert.equal(response.status, 502);
    assert.equal(response.headers.get('retry-after'), null);
  }
  assert.equal((await call(graph, 'GET', '/root')).status, 200);
  assert.equal(graph.faults.counts.failed, 2);
});

test('requests beyond maxConcurrent are refused with 429 and Retry-After 1', async (t) => {
  const graph = await start(t);
  graph.faults.maxConcurrent = 2;
  graph.faults.latencyMs = 100;
  const statuses = await Promise.all(Array.from({ length: 4 }, () => call(graph, 'GET', '/root').then((r) => r.status)));
  assert.deepEqual(statuses.filter((s) => s === 200).length, 2);
  assert.deepEqual(statuses.filter((s) => s === 429).length, 2);
  assert.equal(graph.faults.counts.overConcurrency, 2);
});

test('a stalled request is never answered, so the client times out', async (t) => {
  const graph = await start(t);
  graph.faults.stall({ count: 1 });
  await assert.rejects(
    fetch(`${graph.url}/drives/${graph.driveId}/root`, { headers: { authorization: `Bearer ${graph.token}` }, signal: AbortSignal.timeout(200) }),
    { name: 'TimeoutError' },
  );
  assert.equal(graph.faults.counts.stalled, 1);
});

test('latency delays every answer by at least latencyMs', async (t) => {
  const graph = await start(t);
  graph.faults.latencyMs = 80;
  const began = performance.now();
  await call(graph, 'GET', '/root');
  assert.ok(performance.now() - began >= 75);
});

test('a path with spaces, %, #, emoji and combining characters round-trips by path', async (t) => {
  const graph = await start(t);
  const folderName = 'Ordner 100% #1';
  const fileName = 'Re\u0301sume\u0301 🎉 + more.txt';
  const folder = await mkdir(graph, graph.rootId, folderName);
  const created = await call(graph, 'PUT', `/items/${folder.id}:/${encodeURIComponent(fileName)}:/content`, Buffer.from('x'));
  assert.equal(created.status, 201);
  assert.equal((await json<DriveItem>(created)).name, fileName);

  const byPath = await call(graph, 'GET', `/root:/${encodeURIComponent(folderName)}/${encodeURIComponent(fileName)}:`);
  assert.equal(byPath.status, 200);
  const item = await json<DriveItem>(byPath);
  assert.equal(item.name, fileName);
  assert.equal(item.parentReference.path, `/drives/${graph.driveId}/root:/${encodeURIComponent(folderName)}`);
  assert.equal(graph.itemByPath(`/${folderName}/${fileName}`)?.id, item.id);
  const precomposed = await call(graph, 'GET', `/root:/${encodeURIComponent(folderName)}/${encodeURIComponent(fileName.normalize('NFC'))}:`);
  assert.equal(precomposed.status, 404, 'names are compared code point by code point, not after normalisation');
});

test('relative path addressing from an item id finds the child', async (t) => {
  const graph = await start(t);
  const folder = await mkdir(graph, graph.rootId, 'vmb');
  const sub = await mkdir(graph, folder.id, '1042');
  const found = await call(graph, 'GET', `/items/${folder.id}:/1042:`);
  assert.equal((await json<DriveItem>(found)).id, sub.id);
  assert.equal((await call(graph, 'GET', `/items/${folder.id}:/nope:`)).status, 404);
});

test('names that break OneDrive naming rules are rejected with 400 invalidRequest naming the rule', async (t) => {
  const graph = await start(t);
  const cases: Array<[string, RegExp]> = [
    ['a*b', /character '\*'/],
    ['what?', /character '\?'/],
    ['say "hi"', /character '"'/],
    [' lead', /space/],
    ['trail ', /space/],
    ['dot.', /period/],
    ['CON', /reserved/],
    ['desktop.ini', /reserved/],
    ['~$lock.docx', /~\$/],
    ['x_vti_y', /_vti_/],
  ];
  for (const [name, rule] of cases) {
    const response = await call(graph, 'PUT', `/root:/${encodeURIComponent(name)}:/content`, Buffer.from('x'));
    assert.equal(response.status, 400, name);
    const body = await json<GraphErrorBody>(response);
    assert.equal(body.error.code, 'invalidRequest', name);
    assert.match(body.error.message, rule, name);
  }
  const forms = await call(graph, 'POST', '/root/children', { name: 'forms', folder: {} });
  assert.equal(forms.status, 400);
  assert.equal(graph.items().length, 0);
});

test('a path longer than 400 characters is rejected with inner code pathIsTooLong', async (t) => {
  const graph = await start(t);
  const response = await call(graph, 'PUT', `/root:/${'x'.repeat(380)}.txt:/content`, Buffer.from('x'));
  assert.equal(response.status, 400);
  assert.equal((await json<GraphErrorBody>(response)).error.innerError.code, 'pathIsTooLong');
});

test('listing children pages with $top and follows @odata.nextLink', async (t) => {
  const graph = await start(t);
  for (const name of ['a', 'b', 'c']) await mkdir(graph, graph.rootId, name);
  const first = await json<{ value: DriveItem[]; '@odata.nextLink'?: string }>(await call(graph, 'GET', '/root/children?$top=2'));
  assert.deepEqual(
    first.value.map((i) => i.name),
    ['a', 'b'],
  );
  assert.ok(first['@odata.nextLink']);
  const second = await fetch(first['@odata.nextLink'], { headers: { authorization: `Bearer ${graph.token}` } });
  const page = await json<{ value: DriveItem[]; '@odata.nextLink'?: string }>(second);
  assert.deepEqual(
    page.value.map((i) => i.name),
    ['c'],
  );
  assert.equal(page['@odata.nextLink'], undefined);
});

test('rewriteExtensions makes stored PDFs differ in size and hash from what was sent', async (t) => {
  const graph = await start(t, { rewriteExtensions: ['.pdf'] });
  const sent = Buffer.from('%PDF-1.7 tiny');
  const item = await json<DriveItem>(await call(graph, 'PUT', '/root:/scan.PDF:/content', sent));
  assert.ok(item.size > sent.length);
  assert.notEqual(item.file?.hashes.quickXorHash, quickXorHashBase64(sent));
  assert.equal(item.file?.hashes.quickXorHash, quickXorHashBase64(graph.itemByPath('/scan.PDF')?.content ?? Buffer.alloc(0)));
});

test('with storeContent false the emulator keeps size and hash but no bytes', async (t) => {
  const graph = await start(t, { storeContent: false });
  const sent = bytes(5000);
  await call(graph, 'PUT', '/root:/a.bin:/content', sent);
  const stored = graph.itemByPath('/a.bin');
  assert.equal(stored?.size, 5000);
  assert.equal(stored?.quickXorHash, quickXorHashBase64(sent));
  assert.equal(stored?.content, undefined);
});

test('every request is recorded with its status, auth flag, Content-Range and body size', async (t) => {
  const graph = await start(t);
  const session = await createSession(graph, graph.rootId, 'a.bin');
  await putChunk(session.uploadUrl, bytes(10), 0, 10);
  const [create, chunk] = graph.requests();
  assert.equal(create.method, 'POST');
  assert.equal(create.status, 200);
  assert.equal(create.hasAuthorization, true);
  assert.equal(chunk.method, 'PUT');
  assert.equal(chunk.status, 201);
  assert.equal(chunk.hasAuthorization, false);
  assert.equal(chunk.contentRange, 'bytes 0-9/10');
  assert.equal(chunk.bytes, 10);
  assert.ok(typeof chunk.query.tempauth === 'string');
  assert.ok(chunk.endedAt !== undefined && chunk.endedAt >= chunk.startedAt);
  graph.resetRequests();
  assert.equal(graph.requests().length, 0);
});

test('a deferCommit session waits for the empty POST before the file exists', async (t) => {
  const graph = await start(t);
  const created = await call(graph, 'POST', '/root:/later.bin:/createUploadSession', { item: { [CONFLICT]: 'fail' }, deferCommit: true });
  const session = await json<SessionBody>(created);
  const last = await putChunk(session.uploadUrl, bytes(100), 0, 100);
  assert.equal(last.status, 202);
  assert.deepEqual((await json<SessionBody>(last)).nextExpectedRanges, []);
  assert.equal(graph.itemByPath('/later.bin'), undefined);
  const commit = await fetch(session.uploadUrl, { method: 'POST' });
  assert.equal(commit.status, 201);
  assert.equal(graph.itemByPath('/later.bin')?.size, 100);
});

test('with autoCreateParents a PUT by path creates the missing folders', async (t) => {
  const graph = await start(t, { autoCreateParents: true });
  const response = await call(graph, 'PUT', '/root:/a/b/c.txt:/content', Buffer.from('x'));
  assert.equal(response.status, 201);
  assert.equal(graph.itemByPath('/a/b')?.isFolder, true);
});

test('reset disarms pending faults and zeroes what they counted', async (t) => {
  const graph = await start(t);
  graph.faults.failNext({ count: 1, status: 500 });
  await call(graph, 'GET', '/root');
  graph.faults.throttle({ count: 5, retryAfterSeconds: 1 });
  graph.faults.latencyMs = 50;
  assert.equal(graph.faults.pending(), 5);
  graph.faults.reset();
  assert.equal(graph.faults.pending(), 0);
  assert.equal(graph.faults.counts.failed, 0);
  assert.equal(graph.faults.latencyMs, 0);
  assert.equal((await call(graph, 'GET', '/root')).status, 200);
});
