import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from './harness.js';

test('ensureFolder creates the remote root and the folder once and returns the same id every time', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const target = h.target();
  const first = await target.ensureFolder({ parentId: null, name: '1042', remotePath: '1042' });
  const again = await target.ensureFolder({ parentId: null, name: '1042', remotePath: '1042' });
  const fromAnotherThread = await h.target().ensureFolder({ parentId: null, name: '1042', remotePath: '1042' });
  assert.equal(again, first);
  assert.equal(fromAnotherThread, first);
  const folder = h.emulator.itemByPath('/vmb/1042');
  assert.equal(folder?.id, first);
  assert.equal(folder?.isFolder, true);
  assert.equal(h.emulator.items().filter((i) => i.isFolder).length, 2);
});

test('two concurrent ensureFolder calls for the same path return the same id', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const a = h.target();
  const b = h.target();
  const parent = await a.ensureFolder({ parentId: null, name: '2026', remotePath: '2026' });
  const ids = await Promise.all([
    a.ensureFolder({ parentId: parent, name: 'scans', remotePath: '2026/scans' }),
    a.ensureFolder({ parentId: parent, name: 'scans', remotePath: '2026/scans' }),
    b.ensureFolder({ parentId: parent, name: 'scans', remotePath: '2026/scans' }),
    b.ensureFolder({ parentId: parent, name: 'SCANS', remotePath: '2026/SCANS' }),
  ]);
  assert.equal(new Set(ids).size, 1);
  assert.equal(h.emulator.itemByPath('/vmb/2026/scans')?.id, ids[0]);
});

test('a nested remote root is created segment by segment', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const id = await h.target({ remoteRoot: 'imports/vmb/' }).ensureFolder({ parentId: null, name: 'x', remotePath: 'x' });
  assert.equal(h.emulator.itemByPath('/imports/vmb/x')?.id, id);
});

test('a file in the way of a folder skips with remote-not-a-folder', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const target = h.target();
  const root = await target.ensureFolder({ parentId: null, name: 'a', remotePath: 'a' });
  await target.upload({ source: h.source(await h.file('f', 3)), parentId: root, name: 'taken', remotePath: 'a/taken' });
  await assert.rejects(target.ensureFolder({ parentId: root, name: 'taken', remotePath: 'a/taken' }), { kind: 'skip', code: 'remote-not-a-folder' });
});
