import assert from 'node:assert/strict';
import { chmod, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { runJson } from '../support/cli.js';
import { makeTree, tempDir } from '../support/trees.js';

test('with no database configured, a run starts an embedded PostgreSQL, imports, and the next run finds everything unchanged', async () => {
  const src = await tempDir('src');
  const data = await tempDir('data');
  // As root the server runs as the 'postgres' user, which must be able to reach the data dir.
  await chmod(data, 0o755);
  const files = await makeTree(src, { corps: [1], folders: ['', 'x'], filesPerFolder: 4 });

  const first = await runJson([src, '--data-dir', data, '--threads', '2']);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.summary.uploaded, files.length);
  assert.match(first.stderr, /embedded PostgreSQL in .*postgres/);
  const copy = await readFile(path.join(data, 'drive', files[0]));
  assert.deepEqual(copy, await readFile(path.join(src, files[0])));

  const second = await runJson([src, '--data-dir', data, '--threads', '2']);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.summary.uploaded, 0);
  assert.equal(second.summary.unchanged, files.length);
  assert.equal(second.summary.runId, first.summary.runId + 1);
});
