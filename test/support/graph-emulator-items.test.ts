import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quickXorHashBase64 } from '../../src/hash/quickxorhash.js';
import { CONFLICT, call, follow, json, mkdir, start, upload } from './graph-emulator-calls.js';
import type { DeltaPage, DriveItem, GraphErrorBody } from './graph-emulator-calls.js';

test('PATCH with a name renames the item in place and keeps its id', async (t) => {
  const graph = await start(t);
  const folder = await mkdir(graph, graph.rootId, 'vmb');
  const file = await upload(graph, folder.id, 'a.txt', Buffer.from('x'));
  const response = await call(graph, 'PATCH', `/items/${file.id}`, { name: 'b.txt' });
  assert.equal(response.status, 200);
  const renamed = await json<DriveItem>(response);
  assert.equal(renamed.id, file.id);
  assert.equal(renamed.name, 'b.txt');
  assert.equal(graph.itemByPath('/vmb/a.txt'), undefined);
  assert.equal(graph.itemByPath('/vmb/b.txt')?.id, file.id);
});

test('PATCH with parentReference moves the item, and both folders report their new childCount', async (t) => {
  const graph = await start(t);
  const from = await mkdir(graph, graph.rootId, 'from');
  const to = await mkdir(graph, graph.rootId, 'to');
  const file = await upload(graph, from.id, 'a.txt', Buffer.from('12345'));
  const response = await call(graph, 'PATCH', `/items/${file.id}`, { parentReference: { id: to.id }, name: 'moved.txt' });
  assert.equal(response.status, 200);
  const moved = await json<DriveItem>(response);
  assert.equal(moved.parentReference.id, to.id);
  assert.equal(graph.itemByPath('/to/moved.txt')?.id, file.id);
  const fromNow = await json<DriveItem>(await call(graph, 'GET', `/items/${from.id}`));
  const toNow = await json<DriveItem>(await call(graph, 'GET', `/items/${to.id}`));
  assert.deepEqual(fromNow.folder, { childCount: 0 });
  assert.deepEqual(toNow.folder, { childCount: 1 });
  assert.equal(fromNow.size, 0);
  assert.equal(toNow.size, 5);
});

test('PATCH onto a name that exists answers 409 nameAlreadyExists; with conflictBehavior rename it takes "name 1"', async (t) => {
  const graph = await start(t);
  await upload(graph, graph.rootId, 'a.txt', Buffer.from('a'));
  const b = await upload(graph, graph.rootId, 'b.txt', Buffer.from('b'));
  const clash = await call(graph, 'PATCH', `/items/${b.id}`, { name: 'A.TXT' });
  assert.equal(clash.status, 409);
  assert.equal((await json<GraphErrorBody>(clash)).error.code, 'nameAlreadyExists');
  assert.equal(graph.itemByPath('/b.txt')?.id, b.id, 'nothing changed');

  const renamed = await call(graph, 'PATCH', `/items/${b.id}?${CONFLICT}=rename`, { name: 'a.txt' });
  assert.equal(renamed.status, 200);
  assert.equal((await json<DriveItem>(renamed)).name, 'a 1.txt');
});

test('PATCH with conflictBehavior replace deletes the file it lands on', async (t) => {
  const graph = await start(t);
  const old = await upload(graph, graph.rootId, 'a.txt', Buffer.from('old'));
  const b = await upload(graph, graph.rootId, 'b.txt', Buffer.from('new'));
  assert.equal((await call(graph, 'PATCH', `/items/${b.id}?${CONFLICT}=replace`, { name: 'a.txt' })).status, 200);
  assert.equal(graph.itemByPath('/a.txt')?.id, b.id);
  assert.equal((await call(graph, 'GET', `/items/${old.id}`)).status, 404);
  assert.equal(graph.items().length, 1);
});

test('PATCH that changes only the case of a name is not a clash', async (t) => {
  const graph = await start(t);
  const file = await upload(graph, graph.rootId, 'readme.txt', Buffer.from('x'));
  const response = await call(graph, 'PATCH', `/items/${file.id}`, { name: 'README.txt' });
  assert.equal(response.status, 200);
  assert.equal(graph.items()[0].name, 'README.txt');
});

test('PATCH cannot move a folder into itself or one of its subfolders', async (t) => {
  const graph = await start(t);
  const a = await mkdir(graph, graph.rootId, 'a');
  const sub = await mkdir(graph, a.id, 'sub');
  for (const target of [a.id, sub.id]) {
    const response = await call(graph, 'PATCH', `/items/${a.id}`, { parentReference: { id: target } });
    assert.equal(response.status, 400);
    assert.equal((await json<GraphErrorBody>(response)).error.code, 'invalidRequest');
  }
});

test('PATCH to a folder that does not exist answers 404 and moves nothing', async (t) => {
  const graph = await start(t);
  const file = await upload(graph, graph.rootId, 'a.txt', Buffer.from('x'));
  assert.equal((await call(graph, 'PATCH', `/items/${file.id}`, { parentReference: { id: 'nope' } })).status, 404);
  assert.equal(graph.itemByPath('/a.txt')?.id, file.id);
});

test('DELETE answers 204 and removes the whole subtree, the parent folder counting one child less', async (t) => {
  const graph = await start(t);
  const keep = await mkdir(graph, graph.rootId, 'keep');
  const gone = await mkdir(graph, graph.rootId, 'gone');
  const inner = await mkdir(graph, gone.id, 'inner');
  await upload(graph, inner.id, 'a.txt', Buffer.from('abc'));
  await upload(graph, keep.id, 'b.txt', Buffer.from('b'));

  const response = await call(graph, 'DELETE', `/items/${gone.id}`);
  assert.equal(response.status, 204);
  assert.equal(await response.text(), '');
  assert.deepEqual(
    graph.items().map((i) => i.path),
    ['/keep', '/keep/b.txt'],
  );
  assert.equal((await call(graph, 'GET', `/items/${inner.id}`)).status, 404);
  const root = await json<DriveItem>(await call(graph, 'GET', '/root'));
  assert.deepEqual(root.folder, { childCount: 1 });
  assert.equal(root.size, 1);
});

test('DELETE by path works, and DELETE of the root is refused with 403', async (t) => {
  const graph = await start(t);
  await upload(graph, graph.rootId, 'a.txt', Buffer.from('x'));
  assert.equal((await call(graph, 'DELETE', '/root:/a.txt:')).status, 204);
  assert.equal(graph.items().length, 0);
  assert.equal((await call(graph, 'DELETE', '/root')).status, 403);
});

test('rewriteFile changes a file out of band: same id, new size and hash, listed in the next delta', async (t) => {
  const graph = await start(t);
  const file = await upload(graph, graph.rootId, 'report.docx', Buffer.from('as uploaded'));
  const latest = await json<DeltaPage>(await follow(graph, `${graph.url}/drives/${graph.driveId}/root/delta?token=latest`));
  const content = Buffer.from('as rewritten by the library, longer');
  const item = graph.rewriteFile(file.id, content);
  assert.equal(item.id, file.id);
  assert.equal(item.size, content.length);
  assert.equal(item.quickXorHash, quickXorHashBase64(content));

  const served = await json<DriveItem>(await call(graph, 'GET', `/items/${file.id}`));
  assert.equal(served.size, content.length);
  assert.equal(served.file?.hashes.quickXorHash, quickXorHashBase64(content));
  const changes = await json<DeltaPage>(await follow(graph, latest['@odata.deltaLink']!));
  assert.ok(changes.value.some((i) => i.id === file.id && i.size === content.length));
  assert.equal(graph.requests().filter((r) => r.method === 'PUT').length, 1, 'no request was recorded for the rewrite');
});
