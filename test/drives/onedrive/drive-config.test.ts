import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHUNK, startHarness } from './harness.js';

test('a chunk size that is not a multiple of 320 KiB is refused when the target is built', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  assert.throws(() => h.target({ chunkSize: 5_000_000 }), { kind: 'fatal', code: 'config-invalid', message: /multiple of 327680 bytes/ });
});

test('a chunk size of 60 MiB or more is refused when the target is built', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  assert.throws(() => h.target({ chunkSize: 192 * CHUNK }), { kind: 'fatal', code: 'config-invalid' });
  assert.doesNotThrow(() => h.target({ chunkSize: 191 * CHUNK }));
});

test('a target without any credential is refused when it is built', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  assert.throws(() => h.target({ staticToken: undefined }), { kind: 'fatal', code: 'credentials-missing' });
});

test('every request identifies the app with a NONISV User-Agent', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const agents = new Set<string>();
  h.emulator.faults.stall({ count: 1, match: (r) => (agents.add(String(r.headers['user-agent'])), false) });
  const target = h.target({ simpleUploadMax: 0 });
  const parentId = await target.ensureFolder({ parentId: null, name: 'in', remotePath: 'in' });
  await target.upload({ source: h.source(await h.file('f', 10)), parentId, name: 'f', remotePath: 'in/f' });
  assert.equal(agents.size, 1);
  assert.match([...agents][0], /^NONISV\|vmb\|vmb-import\/\d+\.\d+\.\d+$/);
});
