import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quickXorHashBase64 } from '../../src/hash/quickxorhash.js';
import { call, follow, json, mkdir, start, upload } from './graph-emulator-calls.js';
import type { DeltaPage, DriveItem, GraphErrorBody } from './graph-emulator-calls.js';
import type { GraphEmulator } from './graph-emulator/server.js';

/** Follows nextLinks from `first` to the page with the deltaLink; every page's items in order. */
async function readFeed(graph: GraphEmulator, first: string, headers: Record<string, string> = {}): Promise<{ items: DriveItem[]; pages: number; deltaLink: string }> {
  const items: DriveItem[] = [];
  let url: string | undefined = first;
  for (let pages = 1; ; pages++) {
    const response: Response = await follow(graph, url, headers);
    assert.equal(response.status, 200, await response.clone().text());
    const page: DeltaPage = await json<DeltaPage>(response);
    items.push(...page.value);
    url = page['@odata.nextLink'];
    if (url === undefined) {
      assert.ok(page['@odata.deltaLink'], 'the last page carries the deltaLink');
      return { items, pages, deltaLink: page['@odata.deltaLink'] };
    }
    assert.equal(page['@odata.deltaLink'], undefined, 'a page with a nextLink has no deltaLink');
  }
}

const deltaUrl = (graph: GraphEmulator): string => `${graph.url}/drives/${graph.driveId}/root/delta`;
const names = (items: DriveItem[]): string[] => items.map((i) => i.name ?? `deleted:${i.id}`);

/** /a (folder) holding b.txt and /a/c (folder) holding d.txt. */
async function smallTree(graph: GraphEmulator) {
  const a = await mkdir(graph, graph.rootId, 'a');
  const b = await upload(graph, a.id, 'b.txt', Buffer.from('bee'));
  const c = await mkdir(graph, a.id, 'c');
  const d = await upload(graph, c.id, 'd.txt', Buffer.from('dee'));
  return { a, b, c, d };
}

test('a delta without a token lists every item, the root first and parents before children, tracked by id without paths', async (t) => {
  const graph = await start(t);
  const { a, b, c, d } = await smallTree(graph);
  const { items, pages } = await readFeed(graph, deltaUrl(graph));
  assert.equal(pages, 1);
  assert.deepEqual(
    items.map((i) => i.id),
    [graph.rootId, a.id, b.id, c.id, d.id],
  );
  const [root, folder, file] = items;
  assert.deepEqual(root.root, {});
  assert.deepEqual(folder.folder, { childCount: 2 });
  assert.deepEqual(folder.parentReference, { driveId: graph.driveId, id: graph.rootId });
  assert.equal(file.size, 3);
  assert.equal(file.file?.hashes.quickXorHash, quickXorHashBase64(Buffer.from('bee')));
  for (const item of items) {
    assert.equal(item.parentReference.path, undefined, 'no path in a delta feed');
    assert.equal(item.cTag, undefined, 'Business leaves cTag out of delta');
  }
});

test('a long delta is paged by nextLink, and only the last page carries the deltaLink', async (t) => {
  const graph = await start(t, { deltaPageSize: 2 });
  await smallTree(graph);
  const { items, pages } = await readFeed(graph, deltaUrl(graph));
  assert.equal(pages, 3);
  assert.equal(items.length, 5);
  const withTop = await readFeed(graph, `${deltaUrl(graph)}?$top=4`);
  assert.equal(withTop.pages, 2, '$top sets the page size');
});

test('token=latest answers no items and a deltaLink that lists only what changes afterwards', async (t) => {
  const graph = await start(t);
  await smallTree(graph);
  const latest = await json<DeltaPage>(await follow(graph, `${deltaUrl(graph)}?token=latest`));
  assert.deepEqual(latest.value, []);
  assert.equal(latest['@odata.nextLink'], undefined);
  assert.ok(latest['@odata.deltaLink']);
  const unchanged = await readFeed(graph, latest['@odata.deltaLink']);
  assert.deepEqual(unchanged.items, []);
});

test('a deltaLink lists only the items changed since, once each in their latest state, with the folders above them', async (t) => {
  const graph = await start(t);
  const { a, b, c, d } = await smallTree(graph);
  const { deltaLink } = await readFeed(graph, deltaUrl(graph));
  await call(graph, 'PUT', `/items/${d.id}/content`, Buffer.from('a new and longer d'));
  await call(graph, 'PATCH', `/items/${d.id}`, { name: 'd1.txt' });
  await call(graph, 'PATCH', `/items/${d.id}`, { name: 'd2.txt' });

  const { items } = await readFeed(graph, deltaLink);
  assert.deepEqual(
    items.map((i) => i.id),
    [graph.rootId, a.id, c.id, d.id],
  );
  const changed = items[3];
  assert.equal(changed.name, 'd2.txt');
  assert.equal(changed.size, 18);
  assert.ok(!items.some((i) => i.id === b.id), 'an unchanged sibling is not listed');
});

test('with the deltaExcludeParent header only the changed items are listed', async (t) => {
  const graph = await start(t);
  const { d } = await smallTree(graph);
  const { deltaLink } = await readFeed(graph, deltaUrl(graph));
  await call(graph, 'PATCH', `/items/${d.id}`, { name: 'renamed.txt' });
  const { items } = await readFeed(graph, deltaLink, { deltaExcludeParent: 'true' });
  assert.deepEqual(names(items), ['renamed.txt']);
});

test('a deleted folder appears in the next delta with the deleted facet and no name, and so do its children', async (t) => {
  const graph = await start(t);
  const { a, c, d } = await smallTree(graph);
  const { deltaLink } = await readFeed(graph, deltaUrl(graph));
  assert.equal((await call(graph, 'DELETE', `/items/${c.id}`)).status, 204);

  const { items } = await readFeed(graph, deltaLink);
  const deleted = items.filter((i) => i.deleted !== undefined);
  assert.deepEqual(
    deleted.map((i) => i.id),
    [c.id, d.id],
  );
  for (const item of deleted) {
    assert.deepEqual(item.deleted, {});
    assert.equal(item.name, undefined, 'Business sends deleted items without a name');
  }
  assert.deepEqual(deleted[1].parentReference, { driveId: graph.driveId, id: c.id });
  const parent = items.find((i) => i.id === a.id);
  assert.deepEqual(parent?.folder, { childCount: 1 }, 'the folder that lost a child is listed with its new childCount');
});

test('moving a folder lists the folder and both folders it moved between, not its descendants', async (t) => {
  const graph = await start(t);
  const { a, c, d } = await smallTree(graph);
  const target = await mkdir(graph, graph.rootId, 'target');
  const { deltaLink } = await readFeed(graph, deltaUrl(graph));
  assert.equal((await call(graph, 'PATCH', `/items/${c.id}`, { parentReference: { id: target.id } })).status, 200);

  const { items } = await readFeed(graph, deltaLink);
  assert.deepEqual(new Set(items.map((i) => i.id)), new Set([graph.rootId, a.id, target.id, c.id]));
  assert.ok(!items.some((i) => i.id === d.id));
  assert.equal(items.find((i) => i.id === c.id)?.parentReference.id, target.id);
  assert.deepEqual(items.find((i) => i.id === a.id)?.folder, { childCount: 1 });
  assert.deepEqual(items.find((i) => i.id === target.id)?.folder, { childCount: 1 });
});

test('with duplicates on, every entry appears a second time later in the feed, and the last occurrence holds the latest state', async (t) => {
  const graph = await start(t, { deltaPageSize: 3 });
  const { b } = await smallTree(graph);
  graph.delta.duplicates = true;
  const first = await json<DeltaPage>(await follow(graph, deltaUrl(graph)));
  assert.equal(first.value.find((i) => i.id === b.id)?.name, 'b.txt');
  await call(graph, 'PATCH', `/items/${b.id}`, { name: 'b-renamed.txt' });

  const rest = await readFeed(graph, first['@odata.nextLink']!);
  const all = [...first.value, ...rest.items];
  assert.equal(all.length, 10, 'five items, twice');
  const occurrences = all.filter((i) => i.id === b.id);
  assert.equal(occurrences.length, 2);
  assert.equal(occurrences[0].name, 'b.txt');
  assert.equal(occurrences[1].name, 'b-renamed.txt');
});

test('invalidated tokens answer 410 resyncRequired with resyncChangesApplyDifferences and a Location that starts a fresh enumeration', async (t) => {
  const graph = await start(t, { deltaPageSize: 2 });
  await smallTree(graph);
  const firstPage = await json<DeltaPage>(await follow(graph, deltaUrl(graph)));
  const { deltaLink } = await readFeed(graph, deltaUrl(graph));
  graph.delta.invalidateTokens();

  for (const stale of [deltaLink, firstPage['@odata.nextLink']!]) {
    const gone = await follow(graph, stale);
    assert.equal(gone.status, 410);
    const body = await json<GraphErrorBody>(gone);
    assert.equal(body.error.code, 'resyncRequired');
    assert.equal(body.error.innerError.code, 'resyncChangesApplyDifferences');
    assert.equal(gone.headers.get('location'), deltaUrl(graph));
  }
  const fresh = await readFeed(graph, deltaUrl(graph));
  assert.equal(fresh.items.length, 5);
  assert.equal(graph.delta.counts.resyncs, 2);
});

test('a token from another emulator answers 410 resyncRequired', async (t) => {
  const first = await start(t);
  const second = await start(t);
  const { deltaLink } = await readFeed(first, deltaUrl(first));
  const foreign = deltaLink.replace(first.url, second.url);
  assert.equal((await follow(second, foreign)).status, 410);
});

test('a delta on a folder other than the root is refused with 501 notSupported', async (t) => {
  const graph = await start(t);
  const { a } = await smallTree(graph);
  for (const path of [`/items/${a.id}/delta`, '/root:/a:/delta']) {
    const response = await call(graph, 'GET', path);
    assert.equal(response.status, 501, path);
    assert.equal((await json<GraphErrorBody>(response)).error.code, 'notSupported');
  }
  assert.equal((await call(graph, 'GET', `/items/${graph.rootId}/delta`)).status, 200, 'the root by id is the root');
});
