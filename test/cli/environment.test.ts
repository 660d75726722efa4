import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runJson } from '../support/cli.js';
import { freshDatabase } from '../support/database.js';
import { makeTree, tempDir } from '../support/trees.js';

const { url } = await freshDatabase('environment');
const src = await tempDir('src');
const drive = await tempDir('drive');
await makeTree(src, { corps: [4], folders: [''], filesPerFolder: 3 });
const args = [src, '--database-url', url, '--local-root', drive, '--threads', '1'];

test('a VMB_ variable no option reads is named in one warning and the run goes on', async () => {
  const r = await runJson(args, { VMB_HOME: '/x' });

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.status, 'succeeded');
  const warnings = r.stderr.split('\n').filter((l) => l.includes('VMB_HOME'));
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(warnings[0], /ignoring VMB_HOME: no option reads it/);
  assert.doesNotMatch(warnings[0], /did you mean/);
});

test('a likely typo of a VMB_ variable is warned of with the variable it was meant to be', async () => {
  const r = await runJson(args, { VMB_THREAD: '2' });

  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /ignoring VMB_THREAD: no option reads it \(did you mean VMB_THREADS\?\)/);
});

test('an option that comes from its VMB_ variable is not warned of', async () => {
  const r = await runJson(args, { VMB_BATCH_SIZE: '7' });

  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /ignoring VMB_/);
});
