import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkRoot } from '../../src/walk/root.js';

async function tempRoot(t: TestContext): Promise<string> {
  const root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'vmb-root-'));
  t.after(() => fs.promises.rm(root, { recursive: true, force: true }));
  return root;
}

test('an existing directory passes the root check', async (t) => {
  await checkRoot(await tempRoot(t));
});

test('a missing root is the configuration error config-root-missing', async (t) => {
  const missing = path.join(await tempRoot(t), 'nope');
  await assert.rejects(checkRoot(missing), { kind: 'fatal', code: 'config-root-missing', message: `import directory ${missing} does not exist` });
});

test('a root that is a file is the configuration error config-root-not-dir', async (t) => {
  const file = path.join(await tempRoot(t), 'file.txt');
  fs.writeFileSync(file, '');
  await assert.rejects(checkRoot(file), { kind: 'fatal', code: 'config-root-not-dir', message: `import path ${file} is a file, not a directory` });
});

// Root reads everything, so the test cannot use permissions; a link to itself fails for anyone.
test('a root that cannot be looked at is the configuration error config-root-unreadable naming the errno', async (t) => {
  const loop = path.join(await tempRoot(t), 'loop');
  fs.symlinkSync('loop', loop);
  await assert.rejects(checkRoot(loop), { kind: 'fatal', code: 'config-root-unreadable', message: `import directory ${loop} cannot be read (ELOOP)` });
});
